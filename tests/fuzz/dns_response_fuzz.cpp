// The DNS engine's reading of a resolver's reply (resolvers/dns_message): the bytes a resolver,
// or anyone who can spoof one, sends back. The first input byte picks the question's type; the
// rest is the reply. A reply either parses into an outcome that follows from its rcode and
// records, or is an error: never a crash, and the records handed on are of the asked type.
#include <arpa/inet.h>

#include <span>
#include <string>

#include "fuzz/fuzz_check.h"
#include "resolvers/dns_message.h"

using namespace ddnswatch;
using resolvers::QType;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static constexpr QType kTypes[] = {QType::kA,   QType::kAAAA, QType::kTXT,
                                     QType::kSOA, QType::kNS,   QType::kCNAME};
  resolvers::Question question;
  question.name = "www.example.com";
  question.type = kTypes[data[0] % std::size(kTypes)];
  auto answer = resolvers::parse_response(std::span<const uint8_t>(data + 1, size - 1), question);
  if (!answer) {
    FUZZ_CHECK(!answer.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(answer->rcode >= 0 && answer->rcode <= 15);
  FUZZ_CHECK(answer->outcome ==
             resolvers::outcome_for_rcode(answer->rcode, !answer->records.empty()));
  if (answer->outcome == resolvers::Outcome::kNoError) FUZZ_CHECK(!answer->records.empty());
  for (const auto& r : answer->records) {
    if (question.type == QType::kA) {
      FUZZ_CHECK(config::is_ipv4_address(r.value) && fuzz::canonical_address(r.value));
    } else if (question.type == QType::kAAAA) {
      FUZZ_CHECK(config::is_ipv6_address(r.value) && fuzz::canonical_address(r.value));
    }
  }
  return 0;
}
