// Reading DNS responses (resolvers/dns_message.h): a small wire-format builder in this file
// makes real messages (header flags, question, answer/authority/additional records, names
// compressed with pointers as servers do), and tables check what a DNS engineer would: address
// records with their TTLs, CNAME chains followed by owner name, NODATA and NXDOMAIN with the
// authority SOA, every rcode's outcome, the AA/TC/RA flags, TXT, NS and SOA answers, RFC 2181
// TTLs and case-insensitive names. Malformed messages must come back as errors, and every
// truncation and ~2000 seeded random mutations of valid messages must never crash or read out of
// bounds (each input is copied into a buffer of exactly its size, so AddressSanitizer sees it).
#include "resolvers/dns_message.h"

#include <ares.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/inet.h"

namespace ddnswatch::resolvers {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

using Bytes = std::vector<uint8_t>;
using Records = std::vector<std::pair<std::string, uint32_t>>;

// Header flag bits (RFC 1035 section 4.1.1).
constexpr uint16_t kQr = 0x8000;
constexpr uint16_t kAa = 0x0400;
constexpr uint16_t kTc = 0x0200;
constexpr uint16_t kRd = 0x0100;
constexpr uint16_t kRa = 0x0080;

constexpr int kNoErrorRcode = 0;
constexpr int kFormErr = 1;
constexpr int kServFailRcode = 2;
constexpr int kNxDomainRcode = 3;
constexpr int kNotImp = 4;
constexpr int kRefusedRcode = 5;
constexpr int kNotAuth = 9;

constexpr uint16_t code(QType type) { return static_cast<uint16_t>(type); }

/// The flags word of a response: QR, RD and RA by default, plus the rcode.
uint16_t flags(int rcode, uint16_t bits = kQr | kRd | kRa) {
  return static_cast<uint16_t>(bits | (rcode & 0x0f));
}

/// `name` as uncompressed labels ending in the root label.
Bytes wire_name(std::string_view name) {
  Bytes out;
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  out.push_back(0);
  return out;
}

Bytes be32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct SoaFields {
  std::string mname = "ns1.example.com";
  std::string rname = "hostmaster.example.com";
  uint32_t serial = 2024010101;
  uint32_t refresh = 7200;
  uint32_t retry = 3600;
  uint32_t expire = 1209600;
  uint32_t minimum = 300;
};

/// Builds a DNS message section by section. Names (owners, and the names inside CNAME, NS and
/// SOA rdata) are compressed against every name written before, case-sensitively, the way
/// servers compress; the header counts follow the records added unless counts() overrides them.
class DnsBuilder {
 public:
  explicit DnsBuilder(uint16_t flags_word, uint16_t id = 0x5ddc) {
    put16(id);
    put16(flags_word);
    for (int i = 0; i < 4; ++i) put16(0);
  }

  DnsBuilder& question(std::string_view name, QType type = QType::kA, QClass qclass = QClass::kIN) {
    put_name(name);
    put16(code(type));
    put16(static_cast<uint16_t>(qclass));
    ++counts_[0];
    return *this;
  }
  DnsBuilder& answers() { return in(1); }
  DnsBuilder& authority() { return in(2); }
  DnsBuilder& additional() { return in(3); }
  DnsBuilder& no_compression() {
    compress_ = false;
    return *this;
  }

  DnsBuilder& a(std::string_view owner, uint32_t ttl, const char* address) {
    Bytes rdata(4);
    EXPECT_EQ(inet_pton(AF_INET, address, rdata.data()), 1) << address;
    return raw(owner, code(QType::kA), ttl, rdata);
  }
  DnsBuilder& aaaa(std::string_view owner, uint32_t ttl, const char* address) {
    Bytes rdata(16);
    EXPECT_EQ(inet_pton(AF_INET6, address, rdata.data()), 1) << address;
    return raw(owner, code(QType::kAAAA), ttl, rdata);
  }
  DnsBuilder& cname(std::string_view owner, uint32_t ttl, std::string_view target) {
    const size_t at = begin_rr(owner, code(QType::kCNAME), 1, ttl);
    put_name(target);
    return end_rr(at);
  }
  DnsBuilder& ns(std::string_view owner, uint32_t ttl, std::string_view host) {
    const size_t at = begin_rr(owner, code(QType::kNS), 1, ttl);
    put_name(host);
    return end_rr(at);
  }
  DnsBuilder& txt(std::string_view owner, uint32_t ttl, const std::vector<std::string>& strings) {
    const size_t at = begin_rr(owner, code(QType::kTXT), 1, ttl);
    for (const std::string& s : strings) {
      put8(static_cast<uint8_t>(s.size()));
      wire_.insert(wire_.end(), s.begin(), s.end());
    }
    return end_rr(at);
  }
  DnsBuilder& soa(std::string_view owner, uint32_t ttl, const SoaFields& s = {}) {
    const size_t at = begin_rr(owner, code(QType::kSOA), 1, ttl);
    put_name(s.mname);
    put_name(s.rname);
    for (uint32_t v : {s.serial, s.refresh, s.retry, s.expire, s.minimum}) put32(v);
    return end_rr(at);
  }
  /// A record with verbatim rdata; rdlength is the rdata's size.
  DnsBuilder& raw(std::string_view owner, uint16_t type, uint32_t ttl, const Bytes& rdata,
                  uint16_t qclass = 1) {
    const size_t at = begin_rr(owner, type, qclass, ttl);
    wire_.insert(wire_.end(), rdata.begin(), rdata.end());
    return end_rr(at);
  }
  /// An EDNS0 OPT pseudo-record (root owner, class = UDP payload size), for the additional
  /// section.
  DnsBuilder& opt() {
    put8(0);
    put16(41);
    put16(1232);
    put32(0);
    put16(0);
    ++counts_[section_];
    return *this;
  }
  /// Appends bytes as they are (hand-made names, broken records).
  DnsBuilder& bytes(const Bytes& b) {
    wire_.insert(wire_.end(), b.begin(), b.end());
    return *this;
  }
  DnsBuilder& counts(uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
    forced_counts_ = {qd, an, ns, ar};
    return *this;
  }

  size_t size() const { return wire_.size(); }

  Bytes build() const {
    Bytes out = wire_;
    for (size_t i = 0; i < 4; ++i) {
      const uint16_t n = forced_counts_ ? (*forced_counts_)[i] : counts_[i];
      out[4 + 2 * i] = static_cast<uint8_t>(n >> 8);
      out[5 + 2 * i] = static_cast<uint8_t>(n);
    }
    return out;
  }

 private:
  DnsBuilder& in(size_t section) {
    section_ = section;
    return *this;
  }
  void put8(uint8_t v) { wire_.push_back(v); }
  void put16(uint16_t v) {
    put8(static_cast<uint8_t>(v >> 8));
    put8(static_cast<uint8_t>(v));
  }
  void put32(uint32_t v) {
    put16(static_cast<uint16_t>(v >> 16));
    put16(static_cast<uint16_t>(v));
  }
  void put_name(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    while (!name.empty()) {
      const std::string key(name);
      if (auto it = offsets_.find(key); compress_ && it != offsets_.end()) {
        put16(static_cast<uint16_t>(0xc000 | it->second));
        return;
      }
      if (wire_.size() < 0x4000) offsets_.emplace(key, static_cast<uint16_t>(wire_.size()));
      const size_t dot = name.find('.');
      const std::string_view label = name.substr(0, dot);
      put8(static_cast<uint8_t>(label.size()));
      wire_.insert(wire_.end(), label.begin(), label.end());
      name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
    }
    put8(0);
  }
  size_t begin_rr(std::string_view owner, uint16_t type, uint16_t qclass, uint32_t ttl) {
    put_name(owner);
    put16(type);
    put16(qclass);
    put32(ttl);
    const size_t rdlength_at = wire_.size();
    put16(0);
    return rdlength_at;
  }
  DnsBuilder& end_rr(size_t rdlength_at) {
    const size_t rdlength = wire_.size() - rdlength_at - 2;
    wire_[rdlength_at] = static_cast<uint8_t>(rdlength >> 8);
    wire_[rdlength_at + 1] = static_cast<uint8_t>(rdlength);
    ++counts_[section_];
    return *this;
  }

  Bytes wire_;
  std::map<std::string, uint16_t> offsets_;
  bool compress_ = true;
  size_t section_ = 1;
  std::array<uint16_t, 4> counts_ = {0, 0, 0, 0};
  std::optional<std::array<uint16_t, 4>> forced_counts_;
};

Question ask(std::string name, QType type = QType::kA, QClass qclass = QClass::kIN) {
  return Question{std::move(name), type, qclass};
}

/// Parses a copy of `message` held in a heap buffer of exactly its size, so that a read past
/// the end is a heap-buffer-overflow under AddressSanitizer rather than a read of spare bytes.
Result<Answer> parse_exact(const Bytes& message, const Question& question) {
  const Bytes copy(message.begin(), message.end());
  return parse_response(std::span<const uint8_t>(copy.data(), copy.size()), question);
}

Records records_of(const Answer& answer) {
  Records out;
  for (const RecordData& r : answer.records) out.emplace_back(r.value, r.ttl);
  return out;
}

SoaData soa_data(std::string zone, uint32_t ttl, const SoaFields& f = {}) {
  SoaData s;
  s.zone = std::move(zone);
  s.mname = f.mname;
  s.rname = f.rname;
  s.serial = f.serial;
  s.refresh = f.refresh;
  s.retry = f.retry;
  s.expire = f.expire;
  s.minimum = f.minimum;
  s.ttl = ttl;
  return s;
}

void expect_soa_eq(const SoaData& actual, const SoaData& expected) {
  EXPECT_EQ(actual.zone, expected.zone);
  EXPECT_EQ(actual.mname, expected.mname);
  EXPECT_EQ(actual.rname, expected.rname);
  EXPECT_EQ(actual.serial, expected.serial);
  EXPECT_EQ(actual.refresh, expected.refresh);
  EXPECT_EQ(actual.retry, expected.retry);
  EXPECT_EQ(actual.expire, expected.expire);
  EXPECT_EQ(actual.minimum, expected.minimum);
  EXPECT_EQ(actual.ttl, expected.ttl);
}

// ---------------------------------------------------------------------------------------------
// Responses that parse.

struct ParseCase {
  std::string name;
  Bytes message;
  Question question;
  Outcome outcome = Outcome::kNoError;
  int rcode = kNoErrorRcode;
  Records records = {};
  std::vector<std::string> cname_chain = {};
  std::optional<SoaData> soa = std::nullopt;
  bool authoritative = false;
  bool truncated = false;
  bool recursion_available = true;
};

void PrintTo(const ParseCase& c, std::ostream* os) { *os << c.name; }

std::vector<ParseCase> parse_cases() {
  const Question www_a = ask("www.example.com");
  const SoaFields soa_fields;
  return {
      {.name = "TwoAddressesWithTheirTtls",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("www.example.com")
                      .a("www.example.com", 300, "192.0.2.1")
                      .a("www.example.com", 60, "192.0.2.2")
                      .build(),
       .question = www_a,
       .records = {{"192.0.2.1", 300}, {"192.0.2.2", 60}}},
      {.name = "Aaaa",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("www.example.com", QType::kAAAA)
                      .aaaa("www.example.com", 120, "2001:db8::1")
                      .aaaa("www.example.com", 120, "2001:db8:0:1::53")
                      .build(),
       .question = ask("www.example.com", QType::kAAAA),
       .records = {{"2001:db8::1", 120}, {"2001:db8:0:1::53", 120}}},
      {.name = "AAnswerIgnoresAaaaRecordsAtTheSameOwner",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("www.example.com")
                      .aaaa("www.example.com", 120, "2001:db8::1")
                      .a("www.example.com", 300, "192.0.2.1")
                      .build(),
       .question = www_a,
       .records = {{"192.0.2.1", 300}}},
      {.name = "CnameChainThenAddressesAtItsEnd",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("www.example.com")
                      .cname("www.example.com", 3600, "a.example.net")
                      .cname("a.example.net", 600, "b.example.org")
                      .a("b.example.org", 20, "198.51.100.7")
                      .a("b.example.org", 20, "198.51.100.8")
                      .a("unrelated.example.org", 20, "203.0.113.99")
                      .a("a.example.net", 20, "203.0.113.98")
                      .build(),
       .question = www_a,
       .records = {{"198.51.100.7", 20}, {"198.51.100.8", 20}},
       .cname_chain = {"a.example.net", "b.example.org"}},
      {.name = "CnameChainInAnyOrder",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("www.example.com")
                      .a("b.example.org", 20, "198.51.100.7")
                      .cname("a.example.net", 600, "b.example.org")
                      .cname("www.example.com", 3600, "a.example.net")
                      .build(),
       .question = www_a,
       .records = {{"198.51.100.7", 20}},
       .cname_chain = {"a.example.net", "b.example.org"}},
      {.name = "CnameWithoutAddressesIsNoData",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("www.example.com")
                      .cname("www.example.com", 3600, "a.example.net")
                      .authority()
                      .soa("example.net", 900)
                      .build(),
       .question = www_a,
       .outcome = Outcome::kNoData,
       .cname_chain = {"a.example.net"},
       .soa = soa_data("example.net", 900)},
      {.name = "CnameAskedIsNotFollowed",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("www.example.com", QType::kCNAME)
                      .cname("www.example.com", 3600, "a.example.net")
                      .cname("a.example.net", 600, "b.example.org")
                      .build(),
       .question = ask("www.example.com", QType::kCNAME),
       .records = {{"a.example.net", 3600}}},
      {.name = "NoDataWithAuthoritySoa",
       .message = DnsBuilder(flags(kNoErrorRcode, kQr | kAa | kRd | kRa))
                      .question("www.example.com", QType::kAAAA)
                      .authority()
                      .soa("example.com", 3600, soa_fields)
                      .build(),
       .question = ask("www.example.com", QType::kAAAA),
       .outcome = Outcome::kNoData,
       .soa = soa_data("example.com", 3600),
       .authoritative = true},
      {.name = "NoDataWithoutSoa",
       .message = DnsBuilder(flags(kNoErrorRcode)).question("www.example.com").build(),
       .question = www_a,
       .outcome = Outcome::kNoData},
      {.name = "NxDomainWithSoa",
       .message = DnsBuilder(flags(kNxDomainRcode))
                      .question("nope.example.com")
                      .authority()
                      .soa("example.com", 300, {.serial = 7, .minimum = 60})
                      .build(),
       .question = ask("nope.example.com"),
       .outcome = Outcome::kNxDomain,
       .rcode = kNxDomainRcode,
       .soa = soa_data("example.com", 300, {.serial = 7, .minimum = 60})},
      {.name = "NxDomainAtTheEndOfACnameChain",
       .message = DnsBuilder(flags(kNxDomainRcode))
                      .question("www.example.com")
                      .cname("www.example.com", 3600, "gone.example.net")
                      .authority()
                      .soa("example.net", 900)
                      .build(),
       .question = www_a,
       .outcome = Outcome::kNxDomain,
       .rcode = kNxDomainRcode,
       .cname_chain = {"gone.example.net"},
       .soa = soa_data("example.net", 900)},
      {.name = "ServFail",
       .message = DnsBuilder(flags(kServFailRcode)).question("www.example.com").build(),
       .question = www_a,
       .outcome = Outcome::kServFail,
       .rcode = kServFailRcode},
      {.name = "Refused",
       .message = DnsBuilder(flags(kRefusedRcode, kQr | kRd)).question("www.example.com").build(),
       .question = www_a,
       .outcome = Outcome::kRefused,
       .rcode = kRefusedRcode,
       .recursion_available = false},
      {.name = "NotImp",
       .message = DnsBuilder(flags(kNotImp)).question("www.example.com").build(),
       .question = www_a,
       .outcome = Outcome::kRefused,
       .rcode = kNotImp},
      {.name = "FormErr",
       .message = DnsBuilder(flags(kFormErr)).question("www.example.com").build(),
       .question = www_a,
       .outcome = Outcome::kRefused,
       .rcode = kFormErr},
      {.name = "AuthoritativeAndTruncatedWithoutRecursion",
       .message = DnsBuilder(flags(kNoErrorRcode, kQr | kAa | kTc))
                      .question("www.example.com")
                      .a("www.example.com", 300, "192.0.2.1")
                      .build(),
       .question = www_a,
       .records = {{"192.0.2.1", 300}},
       .authoritative = true,
       .truncated = true,
       .recursion_available = false},
      {.name = "TruncatedWithEmptyAnswer",
       .message = DnsBuilder(flags(kNoErrorRcode, kQr | kTc | kRd | kRa))
                      .question("www.example.com", QType::kTXT)
                      .build(),
       .question = ask("www.example.com", QType::kTXT),
       .outcome = Outcome::kNoData,
       .truncated = true},
      {.name = "TxtStringsConcatenated",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("example.com", QType::kTXT)
                      .txt("example.com", 300, {"v=spf1 include:_spf.example.net ", "-all"})
                      .txt("example.com", 300, {"", "solo"})
                      .build(),
       .question = ask("example.com", QType::kTXT),
       .records = {{"v=spf1 include:_spf.example.net -all", 300}, {"solo", 300}}},
      {.name = "NsRecords",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("example.com", QType::kNS)
                      .ns("example.com", 172800, "ns1.example.com")
                      .ns("example.com", 172800, "ns2.example.net")
                      .additional()
                      .a("ns1.example.com", 172800, "192.0.2.53")
                      .build(),
       .question = ask("example.com", QType::kNS),
       .records = {{"ns1.example.com", 172800}, {"ns2.example.net", 172800}}},
      {.name = "SoaAnswer",
       .message = DnsBuilder(flags(kNoErrorRcode, kQr | kAa))
                      .question("example.com", QType::kSOA)
                      .soa("example.com", 3600, soa_fields)
                      .build(),
       .question = ask("example.com", QType::kSOA),
       .records = {{"ns1.example.com hostmaster.example.com 2024010101", 3600}},
       .soa = soa_data("example.com", 3600),
       .authoritative = true,
       .recursion_available = false},
      {.name = "TtlWithTopBitSetIsZero",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("www.example.com")
                      .a("www.example.com", 0x80000000u, "192.0.2.1")
                      .a("www.example.com", 0xffffffffu, "192.0.2.2")
                      .a("www.example.com", 0x7fffffffu, "192.0.2.3")
                      .build(),
       .question = www_a,
       .records = {{"192.0.2.1", 0}, {"192.0.2.2", 0}, {"192.0.2.3", 0x7fffffffu}}},
      {.name = "SoaTtlWithTopBitSetIsZero",
       .message = DnsBuilder(flags(kNxDomainRcode))
                      .question("nope.example.com")
                      .authority()
                      .soa("example.com", 0x80000001u)
                      .build(),
       .question = ask("nope.example.com"),
       .outcome = Outcome::kNxDomain,
       .rcode = kNxDomainRcode,
       .soa = soa_data("example.com", 0)},
      {.name = "OwnerNamesCaseInsensitive",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("WWW.EXAMPLE.COM")
                      .cname("wWw.Example.COM", 60, "A.Example.NET")
                      .a("a.example.net", 30, "192.0.2.1")
                      .build(),
       .question = www_a,
       .records = {{"192.0.2.1", 30}},
       .cname_chain = {"A.Example.NET"}},
      {.name = "QuestionWithFinalDot",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("www.example.com")
                      .a("www.example.com", 300, "192.0.2.1")
                      .build(),
       .question = ask("www.example.com."),
       .records = {{"192.0.2.1", 300}}},
      {.name = "UncompressedNames",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .no_compression()
                      .question("www.example.com")
                      .cname("www.example.com", 60, "a.example.net")
                      .a("a.example.net", 30, "192.0.2.1")
                      .build(),
       .question = www_a,
       .records = {{"192.0.2.1", 30}},
       .cname_chain = {"a.example.net"}},
      {.name = "OtherClassIgnored",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("www.example.com")
                      .raw("www.example.com", code(QType::kA), 60, {192, 0, 2, 9},
                           static_cast<uint16_t>(QClass::kCH))
                      .a("www.example.com", 60, "192.0.2.1")
                      .build(),
       .question = www_a,
       .records = {{"192.0.2.1", 60}}},
      {.name = "AdditionalSectionAndOptIgnored",
       .message = DnsBuilder(flags(kNoErrorRcode))
                      .question("www.example.com")
                      .a("www.example.com", 300, "192.0.2.1")
                      .additional()
                      .a("www.example.com", 300, "203.0.113.1")
                      .opt()
                      .build(),
       .question = www_a,
       .records = {{"192.0.2.1", 300}}},
      {.name = "ChaosClassQuestion",
       .message = DnsBuilder(flags(kNoErrorRcode, kQr | kAa))
                      .question("version.bind", QType::kTXT, QClass::kCH)
                      .raw("version.bind", code(QType::kTXT), 0, {4, 'l', 'a', 'b', '1'},
                           static_cast<uint16_t>(QClass::kCH))
                      .build(),
       .question = ask("version.bind", QType::kTXT, QClass::kCH),
       .records = {{"lab1", 0}},
       .authoritative = true,
       .recursion_available = false},
  };
}

class DnsMessageParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(DnsMessageParseTest, Parses) {
  const ParseCase& c = GetParam();
  auto answer = parse_exact(c.message, c.question);
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->outcome, c.outcome)
      << to_string(answer->outcome) << " instead of " << to_string(c.outcome);
  EXPECT_EQ(answer->rcode, c.rcode);
  EXPECT_EQ(records_of(*answer), c.records);
  EXPECT_EQ(answer->cname_chain, c.cname_chain);
  EXPECT_EQ(answer->authoritative, c.authoritative);
  EXPECT_EQ(answer->truncated, c.truncated);
  EXPECT_EQ(answer->recursion_available, c.recursion_available);
  ASSERT_EQ(answer->soa.has_value(), c.soa.has_value());
  if (c.soa) expect_soa_eq(*answer->soa, *c.soa);
  // The parser fills neither of these; the engine does.
  EXPECT_EQ(answer->latency.count(), 0);
  EXPECT_THAT(answer->detail, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(DnsMessageTest, DnsMessageParseTest, ::testing::ValuesIn(parse_cases()),
                         [](const ::testing::TestParamInfo<ParseCase>& param_info) {
                           return param_info.param.name;
                         });

TEST(DnsMessageTest, AddressesPrintInCanonicalForm) {
  const Bytes message = DnsBuilder(flags(kNoErrorRcode))
                            .question("many.example.com")
                            .a("many.example.com", 60, "0.0.0.0")
                            .a("many.example.com", 60, "255.255.255.255")
                            .a("many.example.com", 60, "10.200.3.40")
                            .a("many.example.com", 60, "192.0.2.9")
                            .build();
  auto answer = parse_exact(message, ask("many.example.com"));
  ASSERT_TRUE(answer) << answer.error().message;
  ASSERT_EQ(answer->records.size(), 4u);
  EXPECT_EQ(answer->records[0].value, "0.0.0.0");
  EXPECT_EQ(answer->records[1].value, "255.255.255.255");
  EXPECT_EQ(answer->records[2].value, "10.200.3.40");
  EXPECT_EQ(answer->records[3].value, "192.0.2.9");
}

TEST(DnsMessageTest, CnameLoopEndsWithoutRecords) {
  const Bytes message = DnsBuilder(flags(kNoErrorRcode))
                            .question("www.example.com")
                            .cname("www.example.com", 60, "a.example.com")
                            .cname("a.example.com", 60, "www.example.com")
                            .build();
  auto answer = parse_exact(message, ask("www.example.com"));
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->outcome, Outcome::kNoData);
  EXPECT_THAT(answer->records, IsEmpty());
  ASSERT_GE(answer->cname_chain.size(), 2u);
  EXPECT_LE(answer->cname_chain.size(), 16u);
  EXPECT_EQ(answer->cname_chain[0], "a.example.com");
  EXPECT_EQ(answer->cname_chain[1], "www.example.com");
}

TEST(DnsMessageTest, SelfReferencingCnameEnds) {
  const Bytes message = DnsBuilder(flags(kNoErrorRcode))
                            .question("www.example.com")
                            .cname("www.example.com", 60, "www.example.com")
                            .a("www.example.com", 60, "192.0.2.1")
                            .build();
  auto answer = parse_exact(message, ask("www.example.com"));
  // Whatever it makes of such a zone, the parser stops following after a bounded chain.
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_GE(answer->cname_chain.size(), 1u);
  EXPECT_LE(answer->cname_chain.size(), 16u);
}

TEST(DnsMessageTest, CompressionPointersAreUsedByTheBuilder) {
  // The CNAME target's "example.com" suffix and the A owner point back into the message: the
  // compressed message is shorter than the uncompressed one and parses the same.
  auto build = [](bool compress) {
    DnsBuilder b(flags(kNoErrorRcode));
    if (!compress) b.no_compression();
    return b.question("www.example.com")
        .cname("www.example.com", 60, "edge.example.com")
        .a("edge.example.com", 30, "192.0.2.1")
        .build();
  };
  const Bytes compressed = build(true);
  const Bytes plain = build(false);
  EXPECT_LT(compressed.size(), plain.size());
  for (const Bytes& m : {compressed, plain}) {
    auto answer = parse_exact(m, ask("www.example.com"));
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_THAT(answer->cname_chain, ElementsAre("edge.example.com"));
    EXPECT_THAT(records_of(*answer), ElementsAre(Pair("192.0.2.1", 30u)));
  }
}

// ---------------------------------------------------------------------------------------------
// outcome_for_rcode.

struct RcodeCase {
  int rcode;
  bool has_records;
  Outcome outcome;
};

class DnsMessageRcodeTest : public ::testing::TestWithParam<RcodeCase> {};

TEST_P(DnsMessageRcodeTest, Outcome) {
  const RcodeCase& c = GetParam();
  EXPECT_EQ(outcome_for_rcode(c.rcode, c.has_records), c.outcome)
      << "rcode " << c.rcode << " records " << c.has_records;
}

INSTANTIATE_TEST_SUITE_P(DnsMessageTest, DnsMessageRcodeTest,
                         ::testing::Values(RcodeCase{0, true, Outcome::kNoError},
                                           RcodeCase{0, false, Outcome::kNoData},
                                           RcodeCase{kFormErr, false, Outcome::kRefused},
                                           RcodeCase{kServFailRcode, false, Outcome::kServFail},
                                           RcodeCase{kServFailRcode, true, Outcome::kServFail},
                                           RcodeCase{kNxDomainRcode, false, Outcome::kNxDomain},
                                           RcodeCase{kNxDomainRcode, true, Outcome::kNxDomain},
                                           RcodeCase{kNotImp, false, Outcome::kRefused},
                                           RcodeCase{kRefusedRcode, false, Outcome::kRefused},
                                           RcodeCase{kRefusedRcode, true, Outcome::kRefused},
                                           RcodeCase{kNotAuth, false, Outcome::kRefused},
                                           RcodeCase{15, false, Outcome::kRefused}));

// ---------------------------------------------------------------------------------------------
// Malformed responses: an error, never a crash.

struct MalformedCase {
  std::string name;
  Bytes message;
  Question question;
};

void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.name; }

/// A valid response for www.example.com A with one address, whose last two bytes before the
/// rdata are its rdlength.
Bytes one_address() {
  return DnsBuilder(flags(kNoErrorRcode))
      .question("www.example.com")
      .a("www.example.com", 300, "192.0.2.1")
      .build();
}

Bytes with_byte(Bytes m, size_t at, uint8_t value) {
  m.at(at) = value;
  return m;
}

std::vector<MalformedCase> malformed_cases() {
  const Question www_a = ask("www.example.com");
  const Bytes valid = one_address();
  const Bytes header_only = DnsBuilder(flags(kNoErrorRcode)).build();
  // The hand-made SOA rdata: two uncompressed names and the five 32-bit fields.
  const Bytes soa_names =
      concat({wire_name("ns1.example.com"), wire_name("hostmaster.example.com")});
  const Bytes soa_fields = concat({be32(1), be32(2), be32(3), be32(4), be32(5)});
  const Bytes soa_short = concat({soa_names, Bytes(soa_fields.begin(), soa_fields.end() - 4)});
  const Bytes soa_long = concat({soa_names, soa_fields, Bytes{0}});
  // Offset 12 is where the question's name starts.
  const Bytes question_tail = {0, 1, 0, 1};
  return {
      {"Empty", {}, www_a},
      {"ShorterThanHeader", Bytes(valid.begin(), valid.begin() + 11), www_a},
      {"HeaderOnly", header_only, www_a},
      {"QrBitNotSet", with_byte(valid, 2, static_cast<uint8_t>(valid[2] & 0x7f)), www_a},
      {"QuestionCountZero",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .a("www.example.com", 300, "192.0.2.1")
           .counts(0, 1, 0, 0)
           .build(),
       www_a},
      {"QuestionCountZeroAndNoQuestion", DnsBuilder(flags(kServFailRcode)).build(), www_a},
      {"QuestionCountTwo",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .question("www.example.com")
           .a("www.example.com", 300, "192.0.2.1")
           .build(),
       www_a},
      {"QuestionForAnotherName", valid, ask("mail.example.com")},
      {"QuestionForAParentName", valid, ask("example.com")},
      {"QuestionForAnotherType", valid, ask("www.example.com", QType::kAAAA)},
      {"QuestionForAnotherClass", valid, ask("www.example.com", QType::kA, QClass::kCH)},
      {"QuestionTruncated",
       DnsBuilder(flags(kNoErrorRcode))
           .bytes(wire_name("www.example.com"))
           .bytes({0, 1})
           .counts(1, 0, 0, 0)
           .build(),
       www_a},
      {"AnswerCountBeyondTheRecords",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .a("www.example.com", 300, "192.0.2.1")
           .counts(1, 2, 0, 0)
           .build(),
       www_a},
      {"AuthorityCountBeyondTheRecords",
       DnsBuilder(flags(kNxDomainRcode)).question("www.example.com").counts(1, 0, 1, 0).build(),
       www_a},
      {"RecordHeaderTruncated",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .bytes({0xc0, 12, 0, 1, 0, 1, 0, 0})
           .counts(1, 1, 0, 0)
           .build(),
       www_a},
      {"RdlengthRunsPastTheEnd", with_byte(valid, valid.size() - 5, 5), www_a},
      {"RdlengthFarPastTheEnd", with_byte(valid, valid.size() - 6, 0xff), www_a},
      {"RdlengthPastTheEndAtAnUnrelatedOwner",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .a("www.example.com", 300, "192.0.2.1")
           .bytes(concat({wire_name("other.example.com"), {0, 1, 0, 1}, be32(60), {0, 9, 1, 2}}))
           .counts(1, 2, 0, 0)
           .build(),
       www_a},
      {"ARecordOfThreeBytes",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .raw("www.example.com", code(QType::kA), 300, {192, 0, 2})
           .build(),
       www_a},
      {"ARecordOfFiveBytes",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .raw("www.example.com", code(QType::kA), 300, {192, 0, 2, 1, 0})
           .build(),
       www_a},
      {"AaaaRecordOfFourBytes",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com", QType::kAAAA)
           .raw("www.example.com", code(QType::kAAAA), 300, {192, 0, 2, 1})
           .build(),
       ask("www.example.com", QType::kAAAA)},
      {"QuestionNamePointsToItself",
       DnsBuilder(flags(kNoErrorRcode))
           .bytes({0xc0, 12})
           .bytes(question_tail)
           .counts(1, 0, 0, 0)
           .build(),
       www_a},
      {"LabelThenPointerBackToItself",
       DnsBuilder(flags(kNoErrorRcode))
           .bytes({3, 'w', 'w', 'w', 0xc0, 12})
           .bytes(question_tail)
           .counts(1, 0, 0, 0)
           .build(),
       www_a},
      {"TwoPointersPointingAtEachOther",
       // Question name at 12 points to 14, which points back to 12.
       DnsBuilder(flags(kNoErrorRcode))
           .bytes({0xc0, 14, 0xc0, 12})
           .bytes(question_tail)
           .counts(1, 0, 0, 0)
           .build(),
       www_a},
      {"OwnerPointerLoop",
       // The answer's owner is a pointer to itself (offset 12 + 17 + 4 = 33).
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .bytes(concat({{0xc0, 33, 0, 1, 0, 1}, be32(60), {0, 4, 192, 0, 2, 1}}))
           .counts(1, 1, 0, 0)
           .build(),
       www_a},
      {"QuestionNamePointerPastTheEnd",
       DnsBuilder(flags(kNoErrorRcode))
           .bytes({0xc0, 0xf0})
           .bytes(question_tail)
           .counts(1, 0, 0, 0)
           .build(),
       www_a},
      {"CnameTargetPointerPastTheEnd",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .raw("www.example.com", code(QType::kCNAME), 60, {0xc0, 0xfe})
           .build(),
       www_a},
      {"CnameTargetPointerLoop",
       // The CNAME rdata starts at 12 + 17 + 4 + 2 + 10 = 45 and points to itself.
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .raw("www.example.com", code(QType::kCNAME), 60, {0xc0, 45})
           .build(),
       www_a},
      {"CnameWithTrailingData",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .raw("www.example.com", code(QType::kCNAME), 60,
                concat({wire_name("a.example.net"), {0, 0}}))
           .build(),
       www_a},
      {"CnameWithEmptyRdata",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .raw("www.example.com", code(QType::kCNAME), 60, {})
           .a("a.example.net", 60, "192.0.2.1")
           .build(),
       www_a},
      {"NsNameRunsPastItsRdata",
       DnsBuilder(flags(kNoErrorRcode))
           .question("example.com", QType::kNS)
           .raw("example.com", code(QType::kNS), 60, {3, 'n', 's', '1'})
           .build(),
       ask("example.com", QType::kNS)},
      {"LabelRunsPastTheEnd",
       DnsBuilder(flags(kNoErrorRcode))
           .bytes({3, 'w', 'w', 'w', 20, 'e', 'x'})
           .counts(1, 0, 0, 0)
           .build(),
       www_a},
      {"SoaInAuthorityTruncated",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .authority()
           .raw("example.com", code(QType::kSOA), 300, soa_short)
           .build(),
       www_a},
      {"SoaInAuthorityWithOnlyNames",
       DnsBuilder(flags(kNxDomainRcode))
           .question("www.example.com")
           .authority()
           .raw("example.com", code(QType::kSOA), 300, soa_names)
           .build(),
       www_a},
      {"SoaInAuthorityWithTrailingBytes",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .authority()
           .raw("example.com", code(QType::kSOA), 300, soa_long)
           .build(),
       www_a},
      {"SoaAnswerTruncated",
       DnsBuilder(flags(kNoErrorRcode))
           .question("example.com", QType::kSOA)
           .raw("example.com", code(QType::kSOA), 300, soa_short)
           .build(),
       ask("example.com", QType::kSOA)},
      {"SoaAnswerEmptyRdata",
       DnsBuilder(flags(kNoErrorRcode))
           .question("example.com", QType::kSOA)
           .raw("example.com", code(QType::kSOA), 300, {})
           .build(),
       ask("example.com", QType::kSOA)},
      {"TxtStringLongerThanItsRdata",
       DnsBuilder(flags(kNoErrorRcode))
           .question("example.com", QType::kTXT)
           .raw("example.com", code(QType::kTXT), 300, {5, 'a', 'b'})
           .build(),
       ask("example.com", QType::kTXT)},
      {"TxtSecondStringLongerThanItsRdata",
       DnsBuilder(flags(kNoErrorRcode))
           .question("example.com", QType::kTXT)
           .raw("example.com", code(QType::kTXT), 300, {2, 'o', 'k', 9, 'x'})
           .a("example.com", 60, "192.0.2.1")
           .build(),
       ask("example.com", QType::kTXT)},
  };
}

class DnsMessageMalformedTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(DnsMessageMalformedTest, IsAnError) {
  const MalformedCase& c = GetParam();
  auto answer = parse_exact(c.message, c.question);
  ASSERT_FALSE(answer) << "parsed as " << to_string(answer->outcome) << " with "
                       << answer->records.size() << " records";
  EXPECT_EQ(answer.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(answer.error().message, ::testing::Not(IsEmpty()));
}

INSTANTIATE_TEST_SUITE_P(DnsMessageTest, DnsMessageMalformedTest,
                         ::testing::ValuesIn(malformed_cases()),
                         [](const ::testing::TestParamInfo<MalformedCase>& param_info) {
                           return param_info.param.name;
                         });

TEST(DnsMessageTest, ErrorMessagesSayWhatIsWrong) {
  EXPECT_THAT(parse_exact({}, ask("www.example.com")).error().message, HasSubstr("header"));
  const Bytes valid = one_address();
  EXPECT_THAT(parse_exact(with_byte(valid, 2, 0), ask("www.example.com")).error().message,
              HasSubstr("QR"));
  // Opcode STATUS (2) in an answer to a standard query: an answer to something else.
  EXPECT_THAT(parse_exact(with_byte(valid, 2, static_cast<uint8_t>(valid[2] | 0x10)),
                          ask("www.example.com"))
                  .error()
                  .message,
              HasSubstr("opcode 2"));
  EXPECT_THAT(parse_exact(valid, ask("mail.example.com")).error().message,
              HasSubstr("another question"));
  const Bytes short_a = DnsBuilder(flags(kNoErrorRcode))
                            .question("www.example.com")
                            .raw("www.example.com", code(QType::kA), 300, {192, 0, 2})
                            .build();
  EXPECT_THAT(parse_exact(short_a, ask("www.example.com")).error().message, HasSubstr("3 bytes"));
}

// ---------------------------------------------------------------------------------------------
// Truncations and random mutations: no crash, no out-of-bounds read.

struct Seed {
  std::string name;
  Bytes message;
  Question question;
  bool has_additional = false;
};

std::vector<Seed> seeds() {
  const SoaFields soa;
  return {
      {"CnameChain",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com")
           .cname("www.example.com", 3600, "a.example.net")
           .cname("a.example.net", 600, "b.example.org")
           .a("b.example.org", 20, "198.51.100.7")
           .a("b.example.org", 20, "198.51.100.8")
           .authority()
           .ns("example.org", 3600, "ns1.example.org")
           .build(),
       ask("www.example.com")},
      {"NoDataSoa",
       DnsBuilder(flags(kNoErrorRcode, kQr | kAa))
           .question("www.example.com", QType::kAAAA)
           .authority()
           .soa("example.com", 3600, soa)
           .build(),
       ask("www.example.com", QType::kAAAA)},
      {"Txt",
       DnsBuilder(flags(kNoErrorRcode))
           .question("example.com", QType::kTXT)
           .txt("example.com", 300, {"v=spf1 ", "-all"})
           .txt("example.com", 300, {"google-site-verification=abc"})
           .build(),
       ask("example.com", QType::kTXT)},
      {"SoaAnswer",
       DnsBuilder(flags(kNoErrorRcode, kQr | kAa))
           .question("example.com", QType::kSOA)
           .soa("example.com", 3600, soa)
           .authority()
           .ns("example.com", 3600, "ns1.example.com")
           .build(),
       ask("example.com", QType::kSOA)},
      {"AaaaWithAdditional",
       DnsBuilder(flags(kNoErrorRcode))
           .question("www.example.com", QType::kAAAA)
           .cname("www.example.com", 60, "edge.example.com")
           .aaaa("edge.example.com", 60, "2001:db8::1")
           .additional()
           .opt()
           .build(),
       ask("www.example.com", QType::kAAAA), true},
  };
}

/// Invariants of any answer that parsed, however odd its bytes.
void check_sane(const Answer& answer, const std::string& where) {
  EXPECT_GE(answer.rcode, 0) << where;
  EXPECT_LE(answer.rcode, 15) << where;
  EXPECT_EQ(answer.outcome, outcome_for_rcode(answer.rcode, !answer.records.empty())) << where;
  EXPECT_LE(answer.cname_chain.size(), 16u) << where;
}

TEST(DnsMessageTest, SeedsParse) {
  for (const Seed& s : seeds()) {
    auto answer = parse_exact(s.message, s.question);
    ASSERT_TRUE(answer) << s.name << ": " << answer.error().message;
    EXPECT_EQ(answer->outcome, s.name == "NoDataSoa" ? Outcome::kNoData : Outcome::kNoError)
        << s.name;
  }
}

TEST(DnsMessageTest, EveryTruncationIsAnError) {
  for (const Seed& s : seeds()) {
    for (size_t length = 0; length < s.message.size(); ++length) {
      const Bytes prefix(s.message.begin(),
                         s.message.begin() + static_cast<std::ptrdiff_t>(length));
      auto answer = parse_exact(prefix, s.question);
      const std::string where = s.name + " cut to " + std::to_string(length) + " bytes";
      if (s.has_additional) {
        // The parser does not read the additional section: a cut there may still parse.
        if (answer) check_sane(*answer, where);
      } else {
        EXPECT_FALSE(answer) << where;
      }
    }
  }
}

TEST(DnsMessageTest, RandomMutationsNeverCrash) {
  // A fixed seed and raw mt19937 output (fully specified by the standard): the same inputs on
  // every run and every standard library.
  std::mt19937 rng(0x5eed2024u);
  auto below = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::vector<Seed> all = seeds();
  constexpr int kPerSeed = 400;
  int parsed = 0;
  int rejected = 0;
  for (const Seed& s : all) {
    for (int i = 0; i < kPerSeed; ++i) {
      Bytes m = s.message;
      switch (below(5)) {
        case 0:  // a few bytes anywhere set to random values
          for (size_t n = 1 + below(4); n > 0; --n)
            m[below(m.size())] = static_cast<uint8_t>(rng());
          break;
        case 1: {  // a compression pointer to a random offset, somewhere after the header
          const size_t at = 12 + below(m.size() - 13);
          m[at] = static_cast<uint8_t>(0xc0 | (rng() & 0x3f));
          m[at + 1] = static_cast<uint8_t>(rng());
          break;
        }
        case 2:  // one bit flipped
          m[below(m.size())] ^= static_cast<uint8_t>(1u << below(8));
          break;
        case 3:  // a length or count byte made large: header counts, rdlengths, label lengths
          m[below(m.size())] = static_cast<uint8_t>(0x3f + below(0xc1));
          break;
        default:  // cut short, or random bytes appended
          if (below(2) == 0) {
            m.resize(below(m.size()));
          } else {
            for (size_t n = 1 + below(32); n > 0; --n) m.push_back(static_cast<uint8_t>(rng()));
          }
          break;
      }
      auto answer = parse_exact(m, s.question);
      if (answer) {
        ++parsed;
        check_sane(*answer, s.name + " mutation " + std::to_string(i));
      } else {
        ++rejected;
      }
    }
  }
  EXPECT_EQ(parsed + rejected, kPerSeed * static_cast<int>(all.size()));
  // The mutations reach past the first checks: some still parse, some are caught.
  EXPECT_GT(parsed, 0);
  EXPECT_GT(rejected, 0);
}

// The engine writes its queries itself and hands them to ares_send: they must be the bytes
// ares_create_query writes for the same question on a channel with EDNS.
TEST(DnsMessageTest, BuiltQueriesAreTheOnesCaresWrites) {
  const std::string label63(63, 'x');
  std::string longest;  // 253 characters: a 255-byte name
  while (longest.size() < 253) {
    if (!longest.empty()) longest += '.';
    longest.append(49, 'y');
  }
  longest.resize(253);
  ASSERT_NE(longest.back(), '.');
  const std::vector<std::string> names = {"www.example.com",    "www.example.com.",   "a",
                                          "Mixed.CASE.example", label63 + ".example", longest,
                                          "_dmarc.example.com", "n00042.bench.test"};
  const uint16_t ids[] = {0, 0x1234, 0xffff};
  int compared = 0;
  for (const std::string& name : names) {
    for (QType type : {QType::kA, QType::kAAAA, QType::kSOA, QType::kNS, QType::kTXT}) {
      for (bool recursion : {true, false}) {
        for (uint16_t id : ids) {
          std::array<uint8_t, kMaxQuerySize> built{};
          const size_t length = build_query({name, type, QClass::kIN}, recursion, id, built);
          unsigned char* expected = nullptr;
          int expected_length = 0;
          ASSERT_EQ(ares_create_query(name.c_str(), 1, static_cast<int>(type), id,
                                      recursion ? 1 : 0, &expected, &expected_length, kEdnsUdpSize),
                    ARES_SUCCESS)
              << name;
          EXPECT_EQ(Bytes(built.begin(), built.begin() + static_cast<std::ptrdiff_t>(length)),
                    Bytes(expected, expected + expected_length))
              << name << " " << to_string(type) << " rd=" << recursion << " id=" << id;
          ares_free_string(expected);
          ++compared;
        }
      }
    }
  }
  EXPECT_EQ(compared, 8 * 5 * 2 * 3);
  // The CHAOS class too (version.bind TXT CH, which `probe` may ask).
  std::array<uint8_t, kMaxQuerySize> built{};
  const size_t length = build_query({"version.bind", QType::kTXT, QClass::kCH}, false, 7, built);
  unsigned char* expected = nullptr;
  int expected_length = 0;
  ASSERT_EQ(
      ares_create_query("version.bind", 3, 16, 7, 0, &expected, &expected_length, kEdnsUdpSize),
      ARES_SUCCESS);
  EXPECT_EQ(Bytes(built.begin(), built.begin() + static_cast<std::ptrdiff_t>(length)),
            Bytes(expected, expected + expected_length));
  ares_free_string(expected);
}

// Names that need c-ares's escapes or its errors are not built here: the engine then calls
// ares_query, which says what is wrong with them as before.
TEST(DnsMessageTest, UnusualNamesAreLeftToCares) {
  std::string too_long;
  while (too_long.size() < 254) too_long += "abcdefghi.";
  too_long.resize(254);
  for (const std::string& name :
       {std::string(), std::string("."), std::string("a..b"), std::string(".a"),
        std::string("a\\.b.example"), std::string(64, 'x') + ".example", too_long}) {
    std::array<uint8_t, kMaxQuerySize> built{};
    EXPECT_EQ(build_query({name, QType::kA, QClass::kIN}, true, 1, built), 0U) << name;
  }
}

}  // namespace
}  // namespace ddnswatch::resolvers
