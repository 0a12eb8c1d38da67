// The IP detection's reading of an echo service's answer (ipdetect/answer_parser): an HTTP
// body in each format, and a DNS echo's reply as the engine parses it. The first input byte
// picks the format and the content type; the rest is the body (or the DNS reply). An answer
// that is accepted is exactly one IP literal, nothing around it.
#include <optional>
#include <span>
#include <string>

#include "fuzz/fuzz_check.h"
#include "ipdetect/address.h"
#include "ipdetect/answer_parser.h"
#include "resolvers/dns_message.h"

using namespace ddnswatch;
using Format = config::IpSourceSpec::Format;

namespace {

void check(const Result<std::string>& address) {
  if (!address) {
    FUZZ_CHECK(!address.error().message.empty());
    return;
  }
  FUZZ_CHECK(ipdetect::parse_ip(*address).has_value());
  FUZZ_CHECK(config::is_ip_address(*address));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  const std::string_view body = fuzz::text(data + 1, size - 1);
  static const std::optional<std::string> kContentTypes[] = {
      std::nullopt, "text/plain", "application/json; charset=utf-8", "application/problem+json",
      "Application/JSON"};
  static constexpr Format kFormats[] = {Format::kAuto, Format::kText, Format::kTrace,
                                        Format::kJson};
  if ((selector & 0x80) == 0) {
    const Format format = kFormats[selector % std::size(kFormats)];
    const auto& content_type = kContentTypes[(selector / 4) % std::size(kContentTypes)];
    check(ipdetect::parse_echo_answer(format, body, content_type));
    return 0;
  }
  // A DNS echo: the reply read by the engine, then the detector's reading of the answer.
  static constexpr resolvers::QType kTypes[] = {resolvers::QType::kA, resolvers::QType::kAAAA,
                                                resolvers::QType::kTXT};
  resolvers::Question question;
  question.name = "whoami.example.net";
  question.type = kTypes[selector % std::size(kTypes)];
  auto answer = resolvers::parse_response(std::span<const uint8_t>(data + 1, size - 1), question);
  if (answer) check(ipdetect::parse_dns_answer(*answer, question.type));
  return 0;
}
