// DNSPod through Tencent Cloud API 3.0 (version 2021-03-23): JSON POSTs to
// https://dnspod.tencentcloudapi.com/ with the action in X-TC-Action, signed with
// TC3-HMAC-SHA256. The records of the name and type on the default line (默认) are read with
// DescribeRecordList; when they differ from the wanted addresses, records are changed with
// ModifyRecord, added with CreateRecord and the extras removed with DeleteRecord. TTLs are
// kept unless the record's config sets one (600 on creation).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "providers/provider.h"
#include "providers/record_set.h"

namespace ddnswatch::providers {

/// What a TC3-HMAC-SHA256 signature covers.
struct Tc3Request {
  std::string service;  // "dnspod": the first label of the API's host name
  std::string secret_id;
  std::string_view secret_key;
  int64_t timestamp = 0;  // X-TC-Timestamp, Unix seconds; its UTC date is in the scope
  /// The signed headers with their values exactly as sent (Host with the port when the URL
  /// has one); names in any case. content-type and host are required.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view payload;  // the body
};

struct Tc3Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header's value
};

/// Tencent Cloud's signature v3 of a POST to "/" without a query: the canonical headers are
/// the signed ones, names and values in lower case and trimmed, sorted by name; the key is
/// derived as HMAC("TC3" + key, DATE) → service → "tc3_request".
Tc3Signature tc3_sign(const Tc3Request& request);

/// The records of `sub_domain` (the name relative to the zone, "@" for the apex) and `type` on
/// the default line in a DescribeRecordList answer's Response, in the order listed; records
/// without a numeric RecordId are left out. No RecordList lists nothing.
std::vector<HeldRecord> dnspod_records(const nlohmann::json& response, config::RecordType type,
                                       std::string_view sub_domain);

Result<std::unique_ptr<Provider>> make_dnspod_provider(const config::DnspodProvider& config,
                                                       const config::ProviderConfig& common,
                                                       ProviderContext context);

}  // namespace ddnswatch::providers
