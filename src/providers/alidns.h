// Alibaba Cloud DNS (alidns), the RPC API of version 2015-01-09: signed GET requests to
// https://alidns.aliyuncs.com/?Action=... (signature version 1.0, HMAC-SHA1 over the sorted,
// percent-encoded parameters). The records of the name and type on the default line are read
// with DescribeSubDomainRecords; when they differ from the wanted addresses, records are
// changed with UpdateDomainRecord (Alibaba refuses an update to the same value, so only real
// changes are sent), added with AddDomainRecord and the extras removed with
// DeleteDomainRecord. TTLs are kept unless the record's config sets one (600 on creation).
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "providers/provider.h"
#include "providers/record_set.h"

namespace ddnswatch::providers {

/// A request's parameters, as name and value, not encoded.
using RpcParameters = std::vector<std::pair<std::string, std::string>>;

/// The parameters sorted by name, each name and value percent-encoded (RFC 3986), joined as
/// `k=v&k=v`: the query string that is both signed and sent.
std::string alibaba_canonical_query(RpcParameters parameters);

/// The signature of Alibaba Cloud's RPC APIs (SignatureVersion 1.0, SignatureMethod
/// HMAC-SHA1) of a request with `parameters` (all but Signature itself):
/// base64(HMAC-SHA1(secret + "&", METHOD + "&%2F&" + percent_encode(canonical query))).
std::string alibaba_rpc_signature(std::string_view method, const RpcParameters& parameters,
                                  std::string_view access_key_secret);

/// The records of `rr` (the name relative to the zone, "@" for the apex) and `type` on the
/// default line in a DescribeSubDomainRecords answer, in the order listed; records without an
/// id are left out. nullopt when the answer has no DomainRecords.Record list.
std::optional<std::vector<HeldRecord>> alidns_records(const nlohmann::json& body,
                                                      config::RecordType type, std::string_view rr);

Result<std::unique_ptr<Provider>> make_alidns_provider(const config::AlidnsProvider& config,
                                                       const config::ProviderConfig& common,
                                                       ProviderContext context);

}  // namespace ddnswatch::providers
