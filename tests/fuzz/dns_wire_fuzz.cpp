// What the RFC 2136 provider does with the primary's answer (providers/dns_wire, tsig): match
// it to the request, parse it, read names inside rdata, find and verify its TSIG record. The
// input is the answer to a fixed TSIG-signed query. A message that parses has exactly the
// records its header counts, each inside the message; the verification always has a verdict.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "providers/dns_wire.h"
#include "providers/tsig.h"

using namespace ddnswatch;
using namespace ddnswatch::providers;

namespace {

constexpr uint64_t kNow = 1700000000;

struct Request {
  tsig::Key key;
  tsig::Signed signed_query;
};

const Request& request() {
  static const Request r = [] {
    auto key = tsig::Key::create("ddns-key.example.com", "hmac-sha256",
                                 "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=");
    if (!key) fuzz::fail(__FILE__, __LINE__, "the test key");
    auto query = dns::build_query(0x1234, "www.example.com", dns::kTypeA);
    if (!query) fuzz::fail(__FILE__, __LINE__, "the test query");
    return Request{*key, tsig::sign(*query, *key, kNow)};
  }();
  return r;
}

void check_records(std::string_view wire, const std::vector<dns::Record>& records) {
  for (const auto& rr : records) {
    FUZZ_CHECK(rr.offset < wire.size());
    FUZZ_CHECK(rr.rdata_offset + rr.rdata.size() <= wire.size());
    FUZZ_CHECK(wire.substr(rr.rdata_offset, rr.rdata.size()) == rr.rdata);
    if (rr.type == dns::kTypeCname) (void)dns::read_name(wire, rr.rdata_offset);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view wire = fuzz::text(data, size);
  const Request& r = request();
  (void)dns::answers_request(r.signed_query.message, wire);
  auto message = dns::parse_message(wire);
  if (message) {
    FUZZ_CHECK(message->questions.size() == message->header.qdcount);
    FUZZ_CHECK(message->answers.size() == message->header.ancount);
    FUZZ_CHECK(message->authority.size() == message->header.nscount);
    FUZZ_CHECK(message->additional.size() == message->header.arcount);
    check_records(wire, message->answers);
    check_records(wire, message->authority);
    check_records(wire, message->additional);
    (void)dns::rcode_name(message->header.rcode);
  }
  auto found = tsig::find(wire);
  if (found && *found) {
    FUZZ_CHECK((*found)->offset < wire.size());
    (void)(*found)->server_time();
  }
  tsig::Verification v = tsig::verify(wire, r.key, r.signed_query.mac, kNow);
  if (v.verdict == tsig::Verdict::kValid) {
    FUZZ_CHECK(v.record.has_value());
  } else if (v.verdict != tsig::Verdict::kUnsigned) {
    FUZZ_CHECK(!v.detail.empty());
  }
  return 0;
}
