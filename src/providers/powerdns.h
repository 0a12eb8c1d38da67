// The PowerDNS Authoritative HTTP API (/api/v1): reads the zone's RRset for the record with
// GET .../zones/ZONE., and when it differs replaces it with one PATCH (changetype REPLACE),
// which PowerDNS applies atomically and answers 204. Header X-API-Key. The RRset's TTL is kept
// unless the record's config sets one; comments on the RRset are left as they are.
#pragma once

#include <memory>

#include "config/config.h"
#include "core/result.h"
#include "providers/provider.h"

namespace ddnswatch::providers {

Result<std::unique_ptr<Provider>> make_powerdns_provider(const config::PowerdnsProvider& config,
                                                         const config::ProviderConfig& common,
                                                         ProviderContext context);

}  // namespace ddnswatch::providers
