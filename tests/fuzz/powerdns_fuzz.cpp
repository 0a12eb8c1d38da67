// The PowerDNS API provider's reading of a zone answer (powerdns_rrset) and the plan made from
// it: the body of GET /api/v1/servers/localhost/zones/ZONE. from the configured server. The
// RRset read holds canonical addresses of the type, sorted and unique; the plan writes
// whenever they are not the wanted ones.
#include <algorithm>

#include "fuzz/provider_fuzz.h"
#include "providers/powerdns.h"

using namespace ddnswatch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::provider_input(data, size);
  if (!in) return 0;
  const fuzz::Wanted& wanted = in->wanted;
  const auto rrset = providers::powerdns_rrset(in->body, wanted.type, "home.example.com.");
  if (!rrset) return 0;
  const auto& held = rrset->current.addresses;
  for (const auto& a : held) fuzz::check_value(a, wanted.type);
  FUZZ_CHECK(std::is_sorted(held.begin(), held.end()));
  FUZZ_CHECK(std::adjacent_find(held.begin(), held.end()) == held.end());
  const auto plan = providers::plan_update(rrset->current, wanted.addresses, wanted.ttl);
  if (held != wanted.addresses) FUZZ_CHECK(plan.write);
  if (wanted.ttl) FUZZ_CHECK(plan.ttl == static_cast<uint32_t>(*wanted.ttl));
  return 0;
}
