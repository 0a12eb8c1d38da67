// Cloudflare's API v4 (https://api.cloudflare.com/client/v4, or the record's `endpoint`), with an
// API token (Authorization: Bearer). The zone's id is looked up once by name (GET /zones?name=)
// and kept. Each reconcile lists the name's records of the type (GET .../dns_records) and writes
// only the difference, one request at a time: records that already hold a wanted address are
// left alone, records of addresses no longer wanted are given the missing ones (PATCH, which
// keeps their TTL, proxy status and comment), the rest are created (POST), and what is left over
// is deleted (DELETE) last, so the name never goes without an address.
//
// Proxied records resolve to Cloudflare's own addresses: the reconciliation says so (proxied),
// and their TTL is Cloudflare's (automatic), so a TTL set in the config does not apply to them.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "providers/provider.h"

namespace ddnswatch::providers {

/// Fails only when the config cannot work: a zone that is not a DNS name, an empty token.
Result<std::unique_ptr<Provider>> make_cloudflare_provider(const config::CloudflareProvider& config,
                                                           const config::ProviderConfig& common,
                                                           ProviderContext context);

/// One record of the name's set as Cloudflare holds it.
struct CloudflareRecord {
  std::string id;
  std::string content;  // canonical address text; "" when it is not an address of the type
  int64_t ttl = 1;      // 1: automatic
  bool proxied = false;
};

/// The records of `name` (lower case) and `type` in the `result` of a list answer, in the
/// order listed. Entries of another name or type, or without an id, are left out (they are
/// never touched); anything but an array lists nothing.
std::vector<CloudflareRecord> cloudflare_records(const nlohmann::json& result,
                                                 config::RecordType type, std::string_view name);

/// One write request.
struct CloudflareChange {
  enum class Kind { kPatch, kCreate, kDelete };
  Kind kind = Kind::kCreate;
  std::string id;                      // kPatch, kDelete
  std::optional<std::string> content;  // kCreate; kPatch when the address changes
  std::optional<int64_t> ttl;          // kCreate; kPatch when the TTL changes
  bool proxied = false;                // kCreate

  bool operator==(const CloudflareChange&) const = default;
};

/// The fewest requests that make `held` hold exactly `wanted` (canonical, sorted, non-empty):
/// records holding a wanted address stay (a TTL-only PATCH when the config wants another TTL
/// and the record is not proxied); the others, in `held` order, take the missing addresses in
/// `wanted` order (PATCH); what is still missing is created with the config's TTL, else the
/// first held record's, else 1 (automatic), and proxied when any held record is (then TTL 1);
/// the records left over are deleted. Patches first, then creations, deletions last. Empty: in
/// sync.
std::vector<CloudflareChange> plan_cloudflare_changes(const std::vector<CloudflareRecord>& held,
                                                      const std::vector<std::string>& wanted,
                                                      std::optional<int> wanted_ttl);

}  // namespace ddnswatch::providers
