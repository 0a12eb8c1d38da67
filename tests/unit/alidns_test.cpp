// Alibaba Cloud's RPC signature (version 1.0, HMAC-SHA1) against the worked example of
// Alibaba's documentation, and HMAC-SHA1 against RFC 2202.
#include "providers/alidns.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/crypto.h"

namespace ddnswatch::providers {
namespace {

TEST(AlidnsSignatureTest, HmacSha1MatchesRfc2202) {
  EXPECT_EQ(hex_encode(hmac_sha1(std::string(20, '\x0b'), "Hi There")),
            "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(hex_encode(hmac_sha1("Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(hex_encode(hmac_sha1(std::string(80, '\xaa'),
                                 "Test Using Larger Than Block-Size Key - Hash Key First")),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

// Alibaba's documented example: ECS DescribeRegions signed with secret "testsecret".
const RpcParameters kDocumented = {
    {"Version", "2014-05-26"},        {"TimeStamp", "2016-02-23T12:46:24Z"},
    {"SignatureVersion", "1.0"},      {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
    {"SignatureMethod", "HMAC-SHA1"}, {"Format", "XML"},
    {"Action", "DescribeRegions"},    {"AccessKeyId", "testid"},
};

TEST(AlidnsSignatureTest, ReproducesTheDocumentedExample) {
  EXPECT_EQ(alibaba_canonical_query(kDocumented),
            "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1&"
            "SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&"
            "TimeStamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26");
  EXPECT_EQ(alibaba_rpc_signature("GET", kDocumented, "testsecret"),
            "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
  EXPECT_NE(alibaba_rpc_signature("GET", kDocumented, "testsecreT"),
            "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
}

TEST(AlidnsSignatureTest, EncodesAsRfc3986WithUpperCaseHex) {
  // Space is %20 (not +), "*" is encoded and "~" is not; UTF-8 bytes one by one.
  EXPECT_EQ(alibaba_canonical_query({{"b", "x y*~"}, {"a", "é/="}}), "a=%C3%A9%2F%3D&b=x%20y%2A~");
  // The signature is over the encoded query encoded once more ("=" → %3D, "%" → %25).
  // Expected value computed with Python's hmac, hashlib, base64 and urllib.parse.quote.
  EXPECT_EQ(alibaba_rpc_signature("GET", {{"Value", "2001:db8::1"}, {"RR", "@"}}, "k"),
            "hC5PuyL8JYUXtCAQQKyNA93j8EY=");
}

TEST(AlidnsRecordsTest, ReadsTheDefaultLineOfTheName) {
  const auto body = nlohmann::json::parse(R"({"RequestId": "1", "DomainRecords": {"Record": [
    {"RecordId": "11", "RR": "home", "Type": "A", "Value": "192.0.2.1", "Line": "default",
     "TTL": 600},
    {"RecordId": 12, "RR": "home", "Type": "A", "Value": "192.0.2.2", "TTL": 4294967896},
    {"RecordId": "13", "RR": "home", "Type": "A", "Value": "192.0.2.3", "Line": "telecom"},
    {"RecordId": "14", "RR": "www", "Type": "A", "Value": "192.0.2.4"},
    {"RR": "home", "Type": "A", "Value": "192.0.2.5"}
  ]}})");
  const auto held = alidns_records(body, config::RecordType::kA, "home");
  ASSERT_TRUE(held.has_value());
  ASSERT_EQ(held->size(), 2u);
  EXPECT_EQ((*held)[0].id, "11");
  EXPECT_EQ((*held)[0].ttl, std::optional<uint32_t>(600));
  EXPECT_EQ((*held)[1].id, "12");
  EXPECT_EQ((*held)[1].value, "192.0.2.2");
  // A TTL beyond 32 bits is not one: it is not cut down to 600.
  EXPECT_EQ((*held)[1].ttl, std::nullopt);
  EXPECT_FALSE(alidns_records(nlohmann::json::parse(R"({"Code": "Throttling"})"),
                              config::RecordType::kA, "home")
                   .has_value());
}

}  // namespace
}  // namespace ddnswatch::providers
