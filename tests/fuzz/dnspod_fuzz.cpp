// The DNSPod provider's reading of a DescribeRecordList answer (dnspod_records) and the plan
// made from it: a body from dnspod.tencentcloudapi.com or whatever answers at the configured
// endpoint.
#include "fuzz/provider_fuzz.h"
#include "providers/dnspod.h"

using namespace ddnswatch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::provider_input(data, size);
  if (!in || !in->body.is_object() || !in->body.contains("Response")) return 0;
  const auto held = providers::dnspod_records(in->body["Response"], in->wanted.type,
                                              (in->selector & 8) != 0 ? "@" : "home");
  fuzz::check_record_set(held, in->wanted, 600);
  return 0;
}
