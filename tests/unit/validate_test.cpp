#include "config/validate.h"

#include <gtest/gtest.h>

namespace ddnswatch::config {
namespace {

TEST(ValidateTest, HostPortForms) {
  auto v4 = parse_host_port("127.0.0.1:9877", std::nullopt);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9877);
  auto v6 = parse_host_port("[::1]:53", std::nullopt);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(parse_host_port("2001:db8::1", 53)->port, 53);
  EXPECT_EQ(parse_host_port("192.0.2.1", 53)->port, 53);
  EXPECT_FALSE(parse_host_port("2001:db8::1", std::nullopt));
  EXPECT_FALSE(parse_host_port(":53", 53));
  EXPECT_FALSE(parse_host_port("[::1", 53));
  EXPECT_FALSE(parse_host_port("1.2.3.4:", 53));
}

TEST(ValidateTest, DnsNames) {
  EXPECT_TRUE(is_dns_name("home.example.com"));
  EXPECT_TRUE(is_dns_name("_acme-challenge.example.com"));
  EXPECT_FALSE(is_dns_name("a..b"));
  EXPECT_FALSE(is_dns_name(std::string(64, 'a') + ".com"));
  EXPECT_FALSE(is_dns_name("bad name.com"));
  EXPECT_TRUE(name_in_zone("home.Example.COM", "example.com"));
  EXPECT_TRUE(name_in_zone("example.com", "example.com"));
  EXPECT_FALSE(name_in_zone("badexample.com", "example.com"));
  EXPECT_EQ(strip_final_dot("example.com."), "example.com");
}

TEST(ValidateTest, Base64AndUrls) {
  EXPECT_TRUE(is_base64("c2VjcmV0"));
  EXPECT_TRUE(is_base64("YWI="));
  EXPECT_FALSE(is_base64("YW=I"));
  EXPECT_FALSE(is_base64("abc"));
  EXPECT_TRUE(is_http_url("https://api.example.com/x"));
  EXPECT_FALSE(is_http_url("ftp://example.com"));
  EXPECT_FALSE(is_http_url("https://"));
}

}  // namespace
}  // namespace ddnswatch::config
