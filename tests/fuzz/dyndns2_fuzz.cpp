// The DynDNS2 provider's reading of a service's answer (parse_dyndns2_status): the status
// line of a body from whoever answers at the configured URL. The code comes out in lower
// case, code and address are single words, and an address never comes without a code.
#include <cctype>
#include <string>

#include "fuzz/fuzz_check.h"
#include "providers/dyndns2.h"

using namespace ddnswatch;

namespace {

bool one_word(const std::string& s) {
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto status = providers::parse_dyndns2_status(fuzz::text(data, size));
  FUZZ_CHECK(one_word(status.code) && one_word(status.address));
  for (char c : status.code) FUZZ_CHECK(!std::isupper(static_cast<unsigned char>(c)));
  FUZZ_CHECK(status.address.empty() || !status.code.empty());
  return 0;
}
