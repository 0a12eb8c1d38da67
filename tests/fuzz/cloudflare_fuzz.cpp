// The Cloudflare provider's reading of a list answer (cloudflare_records) and the plan made
// from it: a body from api.cloudflare.com, or from whatever answers at the configured
// endpoint. The records read are of the name, with an id and a canonical address or none, and
// the plan's requests leave the name holding exactly the wanted addresses.
#include "fuzz/provider_fuzz.h"
#include "providers/cloudflare.h"

using namespace ddnswatch;
using providers::CloudflareChange;
using providers::CloudflareRecord;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::provider_input(data, size);
  if (!in || !in->body.is_object() || !in->body.contains("result")) return 0;
  const fuzz::Wanted& wanted = in->wanted;
  const auto held =
      providers::cloudflare_records(in->body["result"], wanted.type, "home.example.com");
  for (const auto& r : held) {
    FUZZ_CHECK(!r.id.empty());
    fuzz::check_value(r.content, wanted.type);
  }
  const auto changes = providers::plan_cloudflare_changes(held, wanted.addresses, wanted.ttl);
  fuzz::check_plan(
      held, changes, wanted.addresses, [](const CloudflareRecord& r) { return r.content; },
      [](auto& records, auto& created, const CloudflareChange& c) {
        switch (c.kind) {
          case CloudflareChange::Kind::kPatch:
            FUZZ_CHECK(records.count(c.id) == 1);
            if (c.content) records[c.id] = *c.content;
            break;
          case CloudflareChange::Kind::kCreate:
            FUZZ_CHECK(c.content.has_value());
            created.push_back(*c.content);
            break;
          case CloudflareChange::Kind::kDelete:
            FUZZ_CHECK(records.erase(c.id) == 1);
            break;
        }
      });
  return 0;
}
