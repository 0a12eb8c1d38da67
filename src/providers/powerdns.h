// The PowerDNS Authoritative HTTP API (/api/v1): reads the zone's RRset for the record with
// GET .../zones/ZONE., and when it differs replaces it with one PATCH (changetype REPLACE),
// which PowerDNS applies atomically and answers 204. Header X-API-Key. The RRset's TTL is kept
// unless the record's config sets one; comments on the RRset are left as they are.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string_view>

#include "config/config.h"
#include "core/result.h"
#include "providers/provider.h"

namespace ddnswatch::providers {

/// The RRset of `owner` (with its final dot) and `type` in a zone answer: its enabled
/// addresses and TTL, and whether it has disabled records (which a write enables again by
/// replacing them). nullopt when the answer is not a zone (no "rrsets" array).
struct PowerdnsRrset {
  RrsetState current;
  bool disabled = false;
};
std::optional<PowerdnsRrset> powerdns_rrset(const nlohmann::json& zone, config::RecordType type,
                                            std::string_view owner);

Result<std::unique_ptr<Provider>> make_powerdns_provider(const config::PowerdnsProvider& config,
                                                         const config::ProviderConfig& common,
                                                         ProviderContext context);

}  // namespace ddnswatch::providers
