// The RFC 2136 provider: reads the RRset straight from the zone's primary with a TSIG-signed
// query, and when it differs from what is wanted replaces it with one TSIG-signed UPDATE
// (delete the RRset, add each address). Tested against BIND 9 and PowerDNS; anything that
// takes TSIG-signed dynamic updates should do. The plan (write or not, which TTL) is pure.
//
// The read is signed too, and its answer verified: "unchanged" then rests on an answer only the
// server could have made (a spoofed unsigned answer could otherwise make us skip an update), a
// server may allow queries only to the key, and a wrong key, secret or clock shows up before
// anything is written. Every answer that would count as success must carry a valid TSIG.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "providers/dns_exchange.h"
#include "providers/provider.h"

namespace ddnswatch::providers {

/// Fails only when the config cannot work: a server that is not IP[:PORT], a key name that is
/// not a DNS name, an unknown algorithm, a secret that is not base64.
Result<std::unique_ptr<Provider>> make_rfc2136_provider(const config::Rfc2136Provider& config,
                                                        ProviderContext context,
                                                        ExchangeOptions options = {});

}  // namespace ddnswatch::providers
