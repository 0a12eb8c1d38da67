// Tencent Cloud's signature v3 (TC3-HMAC-SHA256): the worked example of Tencent's
// documentation (CVM DescribeInstances, signed at 1551113065), reproduced step by step, and a
// DNSPod-shaped request (three signed headers, a Host with a port, a time just before UTC
// midnight) whose values tests/unit/tc3_vectors.py computed with Python's hashlib and hmac.
#include "providers/dnspod.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace ddnswatch::providers {
namespace {

TEST(DnspodSignatureTest, ReproducesTheDocumentedExample) {
  const std::string payload =
      R"({"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]})";
  Tc3Signature s = tc3_sign(Tc3Request{
      "cvm",
      "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
      "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
      1551113065,
      {{"Host", "cvm.tencentcloudapi.com"}, {"Content-Type", "application/json; charset=utf-8"}},
      payload});
  EXPECT_EQ(s.canonical_request,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
            "host:cvm.tencentcloudapi.com\n\ncontent-type;host\n"
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
  EXPECT_EQ(s.string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
  EXPECT_EQ(s.signature, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
  EXPECT_EQ(s.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/"
            "tc3_request, SignedHeaders=content-type;host, "
            "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
}

TEST(DnspodSignatureTest, SignsTheActionAndTheHostWithItsPortInUtcDate) {
  Tc3Signature s = tc3_sign(
      Tc3Request{"dnspod",
                 "AKIDEXAMPLEdnspod",
                 "dnspod-unit-test-key",
                 1700006399,
                 {{"X-TC-Action", "DescribeRecordList"},
                  {"Content-Type", "application/json; charset=utf-8"},
                  {"Host", " 127.0.0.1:8443 "}},
                 R"({"Domain":"example.com","Limit":3000,"RecordType":"A","Subdomain":"www"})"});
  EXPECT_NE(s.canonical_request.find("host:127.0.0.1:8443\nx-tc-action:describerecordlist\n\n"),
            std::string::npos)
      << s.canonical_request;
  EXPECT_EQ(s.signature, "409cfb779d303e4c9c3a03b1a7a8e87ab65847f03265cda120ebb7df6489c254");
  EXPECT_EQ(s.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDEXAMPLEdnspod/2023-11-14/dnspod/tc3_request, "
            "SignedHeaders=content-type;host;x-tc-action, "
            "Signature=409cfb779d303e4c9c3a03b1a7a8e87ab65847f03265cda120ebb7df6489c254");
}

TEST(DnspodRecordsTest, ReadsTheDefaultLineOfTheName) {
  const auto response = nlohmann::json::parse(R"({"RequestId": "1", "RecordList": [
    {"RecordId": 11, "Name": "home", "Type": "AAAA", "Value": "2001:DB8:0::1",
     "Line": "默认", "TTL": 600},
    {"RecordId": "12", "Name": "home", "Type": "AAAA", "Value": "2001:db8::2", "Line": "默认"},
    {"RecordId": 13, "Name": "home", "Type": "AAAA", "Value": "2001:db8::3", "Line": "电信"},
    {"RecordId": 14, "Name": "home", "Type": "A", "Value": "192.0.2.4", "Line": "默认"}
  ]})");
  const auto held = dnspod_records(response, config::RecordType::kAAAA, "home");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].id, "11");
  EXPECT_EQ(held[0].value, "2001:db8::1");
  EXPECT_EQ(held[0].ttl, std::optional<uint32_t>(600));
  EXPECT_TRUE(dnspod_records(nlohmann::json::object(), config::RecordType::kA, "home").empty());
}

}  // namespace
}  // namespace ddnswatch::providers
