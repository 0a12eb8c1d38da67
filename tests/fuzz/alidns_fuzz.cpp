// The Alibaba Cloud DNS provider's reading of a DescribeSubDomainRecords answer
// (alidns_records) and the plan made from it: a body from alidns.aliyuncs.com or whatever
// answers at the configured endpoint.
#include "fuzz/provider_fuzz.h"
#include "providers/alidns.h"

using namespace ddnswatch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::provider_input(data, size);
  if (!in) return 0;
  const auto held =
      providers::alidns_records(in->body, in->wanted.type, (in->selector & 8) != 0 ? "@" : "home");
  if (held) fuzz::check_record_set(*held, in->wanted, 600);
  return 0;
}
