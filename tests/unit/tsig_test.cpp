// TSIG (RFC 8945) and the DNS messages of the RFC 2136 provider, checked against dnspython:
// the hex constants below were printed by tests/unit/tsig_vectors.py (dnspython 2.3.0, Debian
// python3-dnspython) and pasted here, so these tests need neither Python nor dnspython.
// Also the crypto additions they rest on (HMAC-SHA512, base64 decoding) and the pure update plan.
#include "providers/tsig.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/crypto.h"
#include "providers/dns_wire.h"
#include "providers/rfc2136.h"

namespace ddnswatch::providers {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// The keys of tsig_vectors.py.
constexpr char kSecret256[] = "c2VjcmV0LWtleS1mb3ItdGhlLXRzaWctdW5pdC10ZXN0cw==";
constexpr char kSecret512[] =
    "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==";
constexpr uint64_t kTime = 1700000000;

// query, hmac-sha256: host1.ddnswatch.test A, id 0x1234, RD clear, key ddnswatch-lab, signed at
// 1700000000, fudge 300.
constexpr char kQuery[] =
    "12340000000100000000000105686f7374310964646e737761746368047465737400000100010d64646e7377"
    "617463682d6c61620000fa00ff00000000003d0b686d61632d7368613235360000006553f100012c00204891"
    "bb4ed63aeb0e9dc595f08cf29295f286bc56105a2e868e4c0a6871b2394d123400000000";
constexpr char kQueryMac[] = "4891bb4ed63aeb0e9dc595f08cf29295f286bc56105a2e868e4c0a6871b2394d";
// The server's answer to it: AA, host1 5 IN A 192.0.2.1, signed at 1700000001.
constexpr char kAnswer[] =
    "12348400000100010000000105686f7374310964646e7377617463680474657374000001000105686f737431"
    "0964646e73776174636804746573740000010001000000050004c00002010d64646e7377617463682d6c6162"
    "0000fa00ff00000000003d0b686d61632d7368613235360000006553f101012c00206026d884d4fde94f66e2"
    "13a06779d4c54eb2b1fa9328cf67f60371a180519c24123400000000";
// NOTAUTH with TSIG error BADTIME: our time signed echoed, the server's 1700001200 in other data.
constexpr char kBadTimeAnswer[] =
    "12348009000100000000000105686f7374310964646e737761746368047465737400000100010d64646e7377"
    "617463682d6c61620000fa00ff0000000000430b686d61632d7368613235360000006553f100012c00201b9d"
    "b0174e633e4750ba26ad5b62658b2e9029a2e1641a0feddf0ace04a5cd9d12340012000600006553f5b0";
// update, hmac-sha512: zone ddnswatch.test, delete host1 A, add 192.0.2.1 and 192.0.2.2 TTL 300,
// id 0xbeef, key update-key.example, signed at 1700000000.
constexpr char kUpdate[] =
    "beef280000010000000300010964646e7377617463680474657374000006000105686f7374310964646e7377"
    "61746368047465737400000100ff00000000000005686f7374310964646e7377617463680474657374000001"
    "00010000012c0004c000020105686f7374310964646e737761746368047465737400000100010000012c0004"
    "c00002020a7570646174652d6b6579076578616d706c650000fa00ff00000000005d0b686d61632d73686135"
    "31320000006553f100012c0040528c88c41a37ae8e3b72e4ce43c0237fa1d447ee87328e463fc54ee7c992c7"
    "6e047ab991f4e66ee7f8b9587315647356fc91029654ed51eebc0044aeaf48baaebeef00000000";
constexpr char kUpdateMac[] =
    "528c88c41a37ae8e3b72e4ce43c0237fa1d447ee87328e463fc54ee7c992c76e047ab991f4e66ee7f8b95873"
    "15647356fc91029654ed51eebc0044aeaf48baae";
// The server's NOERROR answer to the update, signed at 1700000002.
constexpr char kUpdateAnswer[] =
    "beefa80000010000000000010964646e737761746368047465737400000600010a7570646174652d6b657907"
    "6578616d706c650000fa00ff00000000005d0b686d61632d7368613531320000006553f102012c004098893a"
    "88b154ca2e9c53b4797f82368879a6054fcf378a552be78ecf9aa9f34141e8e949952e2e24a085e033c3a100"
    "0438550e49dea72e6835cb3fdc99a62cfdbeef00000000";

tsig::Key key256() { return *tsig::Key::create("ddnswatch-lab", "hmac-sha256", kSecret256); }
tsig::Key key512() { return *tsig::Key::create("update-key.example", "hmac-sha512", kSecret512); }

std::string update_body() {
  return *dns::build_update(0xbeef, "ddnswatch.test", "host1.ddnswatch.test", dns::kTypeA,
                            {unhex("c0000201"), unhex("c0000202")}, 300);
}

// --- crypto additions ---

TEST(CryptoTest, HmacSha512MatchesRfc4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(hex_encode(hmac_sha512("Jefe", "what do ya want for nothing?")),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f"
            "65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

TEST(CryptoTest, Base64DecodeRoundTripsAndRejectsGarbage) {
  const std::vector<std::string> samples = {"",    "a",    "ab",
                                            "abc", "abcd", std::string("\0\xff\x10", 3)};
  for (const std::string& s : samples) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  }
  EXPECT_EQ(base64_decode("c2Vj\ncmV0\n"), "secret");  // line breaks as in key files
  EXPECT_FALSE(base64_decode("abc"));                  // not a whole quantum
  EXPECT_FALSE(base64_decode("ab=c"));                 // data after padding
  EXPECT_FALSE(base64_decode("a==="));
  EXPECT_FALSE(base64_decode("ab!d"));
  EXPECT_FALSE(base64_decode("YR=="));  // stray bits set
}

TEST(CryptoTest, EqualConstantTime) {
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "ab"));
}

// --- DNS messages ---

TEST(DnsWireTest, EncodesNames) {
  EXPECT_EQ(*dns::encode_name("Host.Example."), std::string("\4Host\7Example\0", 14));
  EXPECT_EQ(*dns::encode_name("Host.Example", true), std::string("\4host\7example\0", 14));
  EXPECT_EQ(*dns::encode_name(""), std::string(1, '\0'));
  EXPECT_FALSE(dns::encode_name("a..b"));
  EXPECT_FALSE(dns::encode_name(std::string(64, 'a') + ".test"));
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'a') + ".";
  EXPECT_FALSE(dns::encode_name(long_name));
}

TEST(DnsWireTest, QueryMatchesDnspython) {
  std::string expected = unhex(kQuery);
  std::string query = *dns::build_query(0x1234, "host1.ddnswatch.test", dns::kTypeA);
  // dnspython's message before its TSIG RR, with ARCOUNT 0.
  std::string unsigned_part = expected.substr(0, query.size());
  unsigned_part[11] = 0;
  EXPECT_EQ(hex_encode(query), hex_encode(unsigned_part));
}

TEST(DnsWireTest, UpdateMatchesDnspython) {
  std::string expected = unhex(kUpdate);
  std::string update = update_body();
  std::string unsigned_part = expected.substr(0, update.size());
  unsigned_part[11] = 0;
  EXPECT_EQ(hex_encode(update), hex_encode(unsigned_part));
}

TEST(DnsWireTest, ParsesCompressedAnswer) {
  // dig-style compression: the answer's owner points at the question name.
  std::string m = unhex(
      "abcd84000001000100000000"
      "05686f737431076578616d706c650000010001"
      "c00c000100010000003c0004c0000263");
  auto parsed = dns::parse_message(m);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->answers.size(), 1u);
  EXPECT_EQ(parsed->answers[0].name, "host1.example");
  EXPECT_EQ(parsed->answers[0].ttl, 60u);
  EXPECT_EQ(hex_encode(parsed->answers[0].rdata), "c0000263");
  EXPECT_TRUE(parsed->header.aa);
}

TEST(DnsWireTest, RejectsMalformedMessages) {
  std::string good = unhex(kAnswer);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(dns::parse_message(good.substr(0, cut))) << "cut at " << cut;
  }
  EXPECT_FALSE(dns::parse_message(good + "x"));  // trailing bytes
  // A compression pointer to itself.
  std::string loop = unhex("abcd84000001000000000000c00c00010001");
  EXPECT_FALSE(dns::parse_message(loop));
}

TEST(DnsWireTest, MatchesAnswersToRequests) {
  std::string query = *dns::build_query(0x1234, "host1.ddnswatch.test", dns::kTypeA);
  std::string answer = unhex(kAnswer);
  EXPECT_TRUE(dns::answers_request(query, answer));
  std::string other_id = answer;
  other_id[1] = 0x35;
  EXPECT_FALSE(dns::answers_request(query, other_id));
  std::string not_response = answer;
  not_response[2] = 0x04;  // QR clear
  EXPECT_FALSE(dns::answers_request(query, not_response));
  std::string other_question = *dns::build_query(0x1234, "host2.ddnswatch.test", dns::kTypeA);
  other_question[2] = static_cast<char>(0x84);
  EXPECT_FALSE(dns::answers_request(query, other_question));
  std::string upper = *dns::build_query(0x1234, "HOST1.ddnswatch.TEST", dns::kTypeA);
  upper[2] = static_cast<char>(0x80);
  EXPECT_TRUE(dns::answers_request(query, upper));  // names compare case-insensitively
}

TEST(DnsWireTest, ZoneMembership) {
  EXPECT_TRUE(dns::in_zone("host.ddnswatch.test", "ddnswatch.test"));
  EXPECT_TRUE(dns::in_zone("DDNSWATCH.test.", "ddnswatch.test"));
  EXPECT_FALSE(dns::in_zone("hostddnswatch.test", "ddnswatch.test"));
  EXPECT_FALSE(dns::in_zone("test", "ddnswatch.test"));
}

// --- TSIG ---

TEST(TsigTest, SignsQueryLikeDnspython) {
  std::string query = *dns::build_query(0x1234, "host1.ddnswatch.test", dns::kTypeA);
  tsig::Signed s = tsig::sign(query, key256(), kTime);
  EXPECT_EQ(hex_encode(s.message), kQuery);
  EXPECT_EQ(hex_encode(s.mac), kQueryMac);
}

TEST(TsigTest, SignsUpdateWithSha512LikeDnspython) {
  tsig::Signed s = tsig::sign(update_body(), key512(), kTime);
  EXPECT_EQ(hex_encode(s.message), kUpdate);
  EXPECT_EQ(hex_encode(s.mac), kUpdateMac);
}

TEST(TsigTest, KeyNameIsCanonicalLowerCase) {
  auto mixed = tsig::Key::create("Update-Key.Example.", "hmac-sha512", kSecret512);
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->name(), "update-key.example");
  EXPECT_EQ(hex_encode(tsig::sign(update_body(), *mixed, kTime).message), kUpdate);
}

TEST(TsigTest, KeyCreationRejectsBadConfig) {
  EXPECT_FALSE(tsig::Key::create("k", "hmac-md5", kSecret256));
  EXPECT_FALSE(tsig::Key::create("k", "hmac-sha256", "not base64!"));
  EXPECT_FALSE(tsig::Key::create("k", "hmac-sha256", ""));
  EXPECT_FALSE(tsig::Key::create("a..b", "hmac-sha256", kSecret256));
  auto bad = tsig::Key::create("k", "hmac-sha256", "s3cr3t!value");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("s3cr3t"), std::string::npos) << "the secret leaked";
}

TEST(TsigTest, VerifiesDnspythonAnswers) {
  auto v = tsig::verify(unhex(kAnswer), key256(), unhex(kQueryMac), kTime + 1);
  EXPECT_EQ(v.verdict, tsig::Verdict::kValid) << v.detail;
  auto u = tsig::verify(unhex(kUpdateAnswer), key512(), unhex(kUpdateMac), kTime + 2);
  EXPECT_EQ(u.verdict, tsig::Verdict::kValid) << u.detail;
}

TEST(TsigTest, EveryTamperedByteFails) {
  std::string answer = unhex(kAnswer);
  // From byte 2: the id is not covered (RFC 8945 restores the original id, so forwarders may
  // change it); the exchange matches it against the request's instead.
  for (size_t i = 2; i < answer.size(); ++i) {
    std::string t = answer;
    t[i] = static_cast<char>(t[i] ^ 0x01);
    auto v = tsig::verify(t, key256(), unhex(kQueryMac), kTime + 1);
    EXPECT_NE(v.verdict, tsig::Verdict::kValid) << "byte " << i << " flipped";
  }
}

TEST(TsigTest, WrongRequestMacOrKeyFails) {
  std::string other_mac = unhex(kQueryMac);
  other_mac[0] = static_cast<char>(other_mac[0] ^ 1);
  EXPECT_EQ(tsig::verify(unhex(kAnswer), key256(), other_mac, kTime).verdict,
            tsig::Verdict::kBadMac);
  auto other_secret = *tsig::Key::create("ddnswatch-lab", "hmac-sha256", kSecret512);
  EXPECT_EQ(tsig::verify(unhex(kAnswer), other_secret, unhex(kQueryMac), kTime).verdict,
            tsig::Verdict::kBadMac);
  auto other_name = *tsig::Key::create("someone-else", "hmac-sha256", kSecret256);
  EXPECT_EQ(tsig::verify(unhex(kAnswer), other_name, unhex(kQueryMac), kTime).verdict,
            tsig::Verdict::kOtherKey);
}

TEST(TsigTest, UnsignedAnswerIsNotValid) {
  std::string answer = unhex(kAnswer);
  auto tsig_rr = tsig::find(answer);
  ASSERT_TRUE(tsig_rr && *tsig_rr);
  std::string stripped = answer.substr(0, (*tsig_rr)->offset);
  stripped[11] = 0;  // ARCOUNT
  EXPECT_EQ(tsig::verify(stripped, key256(), unhex(kQueryMac), kTime).verdict,
            tsig::Verdict::kUnsigned);
}

TEST(TsigTest, StaleAnswerIsOutsideTheFudge) {
  auto v = tsig::verify(unhex(kAnswer), key256(), unhex(kQueryMac), kTime + 1 + 301);
  EXPECT_EQ(v.verdict, tsig::Verdict::kTimeOff);
}

TEST(TsigTest, BadTimeCarriesTheServersClock) {
  // Our clock says kTime, the server's 1200 s more: the answer is still signed and checkable.
  auto v = tsig::verify(unhex(kBadTimeAnswer), key256(), unhex(kQueryMac), kTime);
  ASSERT_EQ(v.verdict, tsig::Verdict::kValid) << v.detail;
  ASSERT_TRUE(v.record);
  EXPECT_EQ(v.record->error, dns::kBadTime);
  EXPECT_EQ(v.record->server_time(), kTime + 1200);
}

TEST(TsigTest, SignResponseRoundTrips) {
  std::string query = *dns::build_query(7, "a.example", dns::kTypeAaaa);
  tsig::Signed request = tsig::sign(query, key512(), kTime);
  std::string answer = query;
  answer[2] = static_cast<char>(0x84);
  tsig::Signed response = tsig::sign_response(answer, key512(), request.mac, kTime);
  EXPECT_EQ(tsig::verify(response.message, key512(), request.mac, kTime).verdict,
            tsig::Verdict::kValid);
}

TEST(TsigTest, TsigMustBeLast) {
  // An A record after the TSIG RR: the signature no longer covers the whole message.
  std::string extra = unhex(kAnswer) + unhex("c00c000100010000003c0004c0000263");
  extra[11] = 2;  // ARCOUNT
  EXPECT_FALSE(tsig::find(extra));
}

// --- the update plan ---

struct PlanCase {
  const char* what;
  RrsetState current;
  std::vector<std::string> wanted;
  std::optional<int> ttl;
  bool write;
  uint32_t write_ttl;
};

TEST(PlanTest, Table) {
  const PlanCase cases[] = {
      {"absent, no TTL wanted", {}, {"192.0.2.1"}, std::nullopt, true, kDefaultTtl},
      {"absent, TTL wanted", {}, {"192.0.2.1"}, 60, true, 60},
      {"same, no TTL wanted", {{"192.0.2.1"}, 30}, {"192.0.2.1"}, std::nullopt, false, 30},
      {"same, same TTL", {{"192.0.2.1"}, 30}, {"192.0.2.1"}, 30, false, 30},
      {"same addresses, other TTL", {{"192.0.2.1"}, 30}, {"192.0.2.1"}, 60, true, 60},
      {"other address keeps TTL", {{"192.0.2.1"}, 30}, {"192.0.2.2"}, std::nullopt, true, 30},
      {"one more address", {{"192.0.2.1"}, 30}, {"192.0.2.1", "192.0.2.2"}, std::nullopt, true, 30},
      {"one fewer address",
       {{"192.0.2.1", "192.0.2.2"}, 30},
       {"192.0.2.2"},
       std::nullopt,
       true,
       30},
  };
  for (const PlanCase& c : cases) {
    UpdatePlan plan = plan_update(c.current, c.wanted, c.ttl);
    EXPECT_EQ(plan.write, c.write) << c.what;
    EXPECT_EQ(plan.ttl, c.write_ttl) << c.what;
  }
}

TEST(PlanTest, CanonicalAddresses) {
  EXPECT_EQ(canonical_addresses({"192.0.2.2", "192.0.2.1", "192.0.2.2", "2001:db8::1"},
                                config::RecordType::kA),
            (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(
      canonical_addresses({"2001:DB8:0:0::1", "192.0.2.1", "junk"}, config::RecordType::kAAAA),
      (std::vector<std::string>{"2001:db8::1"}));
}

}  // namespace
}  // namespace ddnswatch::providers
