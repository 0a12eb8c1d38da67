// IP detection's pure pieces, table by table: the bogon filter and its allow list, the source
// syntax of the config, each echo format (and the answers that must be refused: HTML pages,
// two addresses, extra words, the other family), the quorum rule and its verdict line, the
// IPv6 address choice from /proc/net/if_inet6, and the backoff arithmetic. Then the detector on
// a loop with a fake clock: `done` never runs inside detect(), concurrent calls share a
// result, and a failing source rests for the backoff's time and no longer.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "config/config_loader.h"
#include "ipdetect/address.h"
#include "ipdetect/answer_parser.h"
#include "ipdetect/backoff.h"
#include "ipdetect/detection.h"
#include "ipdetect/interfaces.h"
#include "ipdetect/ip_detector.h"
#include "net/http_client.h"
#include "support/loop_runner.h"
#include "support/process.h"

namespace ddnswatch::ipdetect {
namespace {

using config::IpSourceSpec;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

// --- addresses ---

struct BogonCase {
  const char* address;
  const char* reason;  // empty: a public address
};

class BogonTest : public ::testing::TestWithParam<BogonCase> {};

TEST_P(BogonTest, Classifies) {
  const BogonCase& c = GetParam();
  auto a = parse_ip(c.address);
  ASSERT_TRUE(a) << c.address;
  auto why = bogon_reason(*a);
  if (std::string(c.reason).empty()) {
    EXPECT_EQ(why, std::nullopt) << c.address << ": " << why.value_or("");
  } else {
    ASSERT_TRUE(why) << c.address << " should be a bogon";
    EXPECT_EQ(*why, c.reason) << c.address;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, BogonTest,
    ::testing::Values(
        BogonCase{"0.1.2.3", "0.0.0.0/8 is \"this network\" (RFC 791)"},
        BogonCase{"10.20.30.40", "10.0.0.0/8 is a private range (RFC 1918)"},
        BogonCase{"100.64.0.1",
                  "100.64.0.0/10 is shared address space for carrier-grade NAT (RFC 6598)"},
        BogonCase{"100.127.255.255",
                  "100.64.0.0/10 is shared address space for carrier-grade NAT (RFC 6598)"},
        BogonCase{"100.128.0.1", ""}, BogonCase{"127.0.0.53", "127.0.0.0/8 is loopback (RFC 1122)"},
        BogonCase{"169.254.1.1", "169.254.0.0/16 is link-local (RFC 3927)"},
        BogonCase{"172.16.0.1", "172.16.0.0/12 is a private range (RFC 1918)"},
        BogonCase{"172.31.255.255", "172.16.0.0/12 is a private range (RFC 1918)"},
        BogonCase{"172.32.0.1", ""},
        BogonCase{"192.0.0.9", "192.0.0.0/24 is reserved for IETF protocol assignments (RFC 6890)"},
        BogonCase{"192.0.2.200", "192.0.2.0/24 is a documentation range (RFC 5737)"},
        BogonCase{"192.168.1.1", "192.168.0.0/16 is a private range (RFC 1918)"},
        BogonCase{"198.18.5.5", "198.18.0.0/15 is reserved for benchmarking (RFC 2544)"},
        BogonCase{"198.19.255.1", "198.18.0.0/15 is reserved for benchmarking (RFC 2544)"},
        BogonCase{"198.20.0.1", ""},
        BogonCase{"198.51.100.7", "198.51.100.0/24 is a documentation range (RFC 5737)"},
        BogonCase{"203.0.113.5", "203.0.113.0/24 is a documentation range (RFC 5737)"},
        BogonCase{"224.0.0.251", "224.0.0.0/4 is multicast (RFC 5771)"},
        BogonCase{"240.1.2.3", "240.0.0.0/4 is reserved for future use (RFC 1112)"},
        BogonCase{"255.255.255.255",
                  "255.255.255.255/32 is the limited broadcast address (RFC 919)"},
        BogonCase{"1.1.1.1", ""}, BogonCase{"8.8.8.8", ""}, BogonCase{"223.255.255.254", ""},
        BogonCase{"::", "::/128 is the unspecified address (RFC 4291)"},
        BogonCase{"::1", "::1/128 is loopback (RFC 4291)"},
        BogonCase{"::ffff:198.51.100.7", "::ffff:0.0.0.0/96 is IPv4-mapped (RFC 4291)"},
        BogonCase{"64:ff9b::c633:6407",
                  "64:ff9b::/96 is the NAT64 prefix (RFC 6052): it stands for an IPv4 address"},
        BogonCase{"64:ff9b:1::1", "64:ff9b:1::/48 is local-use NAT64 (RFC 8215)"},
        BogonCase{"100::1", "100::/64 is discard-only (RFC 6666)"},
        BogonCase{"2001:0:4136:e378::1", "2001::/32 is Teredo (RFC 4380)"},
        BogonCase{"2001:2::1", "2001:2::/48 is reserved for benchmarking (RFC 5180)"},
        BogonCase{"2001:10::1", "2001::/23 is reserved for IETF protocol assignments (RFC 2928)"},
        BogonCase{"2001:1::1", ""},      // PCP anycast: globally reachable per RFC 6890
        BogonCase{"2001:3::5", ""},      // AMT
        BogonCase{"2001:4:112::1", ""},  // AS112-v6
        BogonCase{"2001:20::1", ""},     // ORCHIDv2
        BogonCase{"2001:200::1", ""},    // just past 2001::/23: WIDE
        BogonCase{"2001:db8::7", "2001:db8::/32 is a documentation range (RFC 3849)"},
        BogonCase{"3fff:1::1", "3fff::/20 is a documentation range (RFC 9637)"},
        BogonCase{"fd00::2", "fc00::/7 is a unique local range (ULA, RFC 4193)"},
        BogonCase{"fe80::1", "fe80::/10 is link-local (RFC 4291)"},
        BogonCase{"fec0::1", "fec0::/10 is deprecated site-local (RFC 3879)"},
        BogonCase{"ff02::1", "ff00::/8 is multicast (RFC 4291)"},
        BogonCase{"4000::1", "it is outside 2000::/3, the global unicast range (RFC 4291)"},
        BogonCase{"::102:304", "it is outside 2000::/3, the global unicast range (RFC 4291)"},
        BogonCase{"2606:4700:4700::1111", ""}, BogonCase{"2a00:1450:4001:80b::200e", ""}));

TEST(AddressTest, ParsesOnlyExactLiterals) {
  EXPECT_TRUE(parse_ip("203.0.113.7"));
  EXPECT_TRUE(parse_ip("2001:DB8::1"));
  EXPECT_EQ(parse_ip("2001:DB8:0:0::1")->to_string(), "2001:db8::1");
  for (const char* bad : {"", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/32", "fe80::1%eth0", "01.2.3.4",
                          "1.2.3", "256.1.1.1", "[::1]", "localhost"}) {
    EXPECT_FALSE(parse_ip(bad)) << bad;
  }
  EXPECT_FALSE(parse_ip(std::string_view("1.2.3.4\0junk", 12)));
  EXPECT_FALSE(parse_text_answer(std::string("203.0.113.7\0<html>", 18)));
}

TEST(AddressTest, AllowListOverridesTheBogonFilter) {
  auto strict = AddressFilter::create({});
  ASSERT_TRUE(strict);
  EXPECT_EQ(strict->check("100.64.3.4", Family::kIpv4).error().message,
            "100.64.3.4 is not a public address: 100.64.0.0/10 is shared address space for "
            "carrier-grade NAT (RFC 6598)");
  auto cgnat = AddressFilter::create({"100.64.0.0/10", "fd00::/8", "192.0.2.10"});
  ASSERT_TRUE(cgnat);
  EXPECT_EQ(cgnat->check("100.64.3.4", Family::kIpv4).value_or(""), "100.64.3.4");
  EXPECT_EQ(cgnat->check("FD00::0002", Family::kIpv6).value_or(""), "fd00::2");
  EXPECT_EQ(cgnat->check("192.0.2.10", Family::kIpv4).value_or(""), "192.0.2.10");
  EXPECT_FALSE(cgnat->check("192.0.2.11", Family::kIpv4));
  EXPECT_FALSE(cgnat->check("10.0.0.1", Family::kIpv4));
  // The other family is refused whatever the list says.
  EXPECT_EQ(cgnat->check("fd00::2", Family::kIpv4).error().message,
            "answer is an IPv6 address (fd00::2), not IPv4");
  EXPECT_EQ(cgnat->check("8.8.8.8", Family::kIpv6).error().message,
            "answer is an IPv4 address (8.8.8.8), not IPv6");
  EXPECT_EQ(cgnat->check("nope", Family::kIpv4).error().message, "answer is not an IP address");
  EXPECT_FALSE(AddressFilter::create({"10.0.0.0/33"}));
}

struct RangeCase {
  const char* text;
  const char* result;  // to_string() of the range, or the error message
  bool ok;
};

class RangeTest : public ::testing::TestWithParam<RangeCase> {};

TEST_P(RangeTest, Parses) {
  const RangeCase& c = GetParam();
  auto r = config::parse_ip_range(c.text);
  ASSERT_EQ(r.has_value(), c.ok) << c.text;
  EXPECT_EQ(r ? r->to_string() : r.error(), c.result);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RangeTest,
    ::testing::Values(
        RangeCase{"100.64.0.0/10", "100.64.0.0/10", true},
        RangeCase{"192.0.2.7", "192.0.2.7/32", true}, RangeCase{"0.0.0.0/0", "0.0.0.0/0", true},
        RangeCase{"FD00::/8", "fd00::/8", true}, RangeCase{"2001:db8::1", "2001:db8::1/128", true},
        RangeCase{"10.0.0.1/8", "\"10.0.0.1/8\" has bits set after the /8 prefix; write 10.0.0.0/8",
                  false},
        RangeCase{"10.0.0.0/33", "\"10.0.0.0/33\": the prefix length of an IPv4 range is 0 to 32",
                  false},
        RangeCase{"fd00::/129", "\"fd00::/129\": the prefix length of an IPv6 range is 0 to 128",
                  false},
        RangeCase{"10.0.0.0/", "\"10.0.0.0/\": the prefix length of an IPv4 range is 0 to 32",
                  false},
        RangeCase{"10.0.0.0/8x", "\"10.0.0.0/8x\": the prefix length of an IPv4 range is 0 to 32",
                  false},
        RangeCase{"cgnat",
                  "\"cgnat\" is not an IP address or a range such as 100.64.0.0/10 or fd00::/8",
                  false}));

TEST(AddressTest, RangesContainTheirAddressesOnly) {
  auto r = config::parse_ip_range("100.64.0.0/10").value();
  EXPECT_TRUE(r.contains(false, parse_ip("100.127.1.1")->bytes));
  EXPECT_FALSE(r.contains(false, parse_ip("100.128.0.0")->bytes));
  EXPECT_FALSE(r.contains(true, parse_ip("6440::1")->bytes));  // same first bytes, IPv6
  auto all = config::parse_ip_range("::/0").value();
  EXPECT_TRUE(all.contains(true, parse_ip("2001:db8::1")->bytes));
  EXPECT_FALSE(all.contains(false, parse_ip("1.2.3.4")->bytes));
}

// --- the source syntax ---

TEST(SourceSyntaxTest, NamedSourcesStandForTheirEndpoints) {
  auto trace4 = config::parse_ip_source("cloudflare-trace", false).value();
  EXPECT_EQ(trace4.kind, IpSourceSpec::Kind::kHttp);
  EXPECT_EQ(trace4.url, "https://1.1.1.1/cdn-cgi/trace");
  EXPECT_EQ(trace4.format, IpSourceSpec::Format::kTrace);
  EXPECT_EQ(config::parse_ip_source("cloudflare-trace", true)->url,
            "https://[2606:4700:4700::1111]/cdn-cgi/trace");
  EXPECT_EQ(config::parse_ip_source("ipify", false)->url, "https://api.ipify.org");
  EXPECT_EQ(config::parse_ip_source("ipify", true)->url, "https://api6.ipify.org");
  EXPECT_EQ(config::parse_ip_source("icanhazip", false)->url, "https://ipv4.icanhazip.com");
  EXPECT_EQ(config::parse_ip_source("icanhazip", true)->url, "https://ipv6.icanhazip.com");
  EXPECT_EQ(config::parse_ip_source("ifconfig-me", true)->url, "https://ifconfig.me/ip");
  EXPECT_EQ(config::parse_ip_source("aws-checkip", false)->url, "https://checkip.amazonaws.com");
  EXPECT_EQ(config::parse_ip_source("aws-checkip", true).error(),
            "aws-checkip has no IPv6 endpoint; list it under ipv4 only");

  auto opendns6 = config::parse_ip_source("opendns-dns", true).value();
  EXPECT_EQ(opendns6.kind, IpSourceSpec::Kind::kDns);
  EXPECT_EQ(opendns6.dns_name, "myip.opendns.com");
  EXPECT_EQ(opendns6.dns_server, "2620:119:35::35");
  EXPECT_EQ(opendns6.dns_type, "AAAA");
  EXPECT_EQ(config::parse_ip_source("opendns-dns", false)->dns_server, "208.67.222.222");
  auto cf = config::parse_ip_source("cloudflare-dns", false).value();
  EXPECT_EQ(cf.dns_name, "whoami.cloudflare");
  EXPECT_EQ(cf.dns_server, "1.1.1.1");
  EXPECT_EQ(cf.dns_type, "TXT");
  EXPECT_TRUE(cf.dns_chaos);
  auto google = config::parse_ip_source("google-dns", true).value();
  EXPECT_EQ(google.dns_name, "o-o.myaddr.l.google.com");
  EXPECT_EQ(google.dns_server, "2001:4860:4802:32::a");
  EXPECT_FALSE(google.dns_recursion);
}

TEST(SourceSyntaxTest, GenericSourcesTakeTheirOptions) {
  auto url = config::parse_ip_source("url:https://ip.example.net/json?x=1#json", false).value();
  EXPECT_EQ(url.url, "https://ip.example.net/json?x=1");
  EXPECT_EQ(url.format, IpSourceSpec::Format::kJson);
  EXPECT_EQ(config::parse_ip_source("url:http://127.0.0.1:8080/ip", false)->format,
            IpSourceSpec::Format::kAuto);
  EXPECT_EQ(config::parse_ip_source("url:https://www.cloudflare.com/cdn-cgi/trace", false)->format,
            IpSourceSpec::Format::kTrace);

  auto dns = config::parse_ip_source("dns:myip.example.@[2001:db8::53]:5353/txt/ch", true).value();
  EXPECT_EQ(dns.dns_name, "myip.example");
  EXPECT_EQ(dns.dns_server, "2001:db8::53");
  EXPECT_EQ(dns.dns_port, 5353);
  EXPECT_EQ(dns.dns_type, "TXT");
  EXPECT_TRUE(dns.dns_chaos);
  auto plain = config::parse_ip_source("dns:myip.example@127.0.0.1", true).value();
  EXPECT_EQ(plain.dns_type, "AAAA");  // the family's address type
  EXPECT_EQ(plain.dns_port, 53);

  auto eth = config::parse_ip_source("interface:eth0", true).value();
  EXPECT_EQ(eth.interface, "eth0");
  EXPECT_EQ(eth.policy, IpSourceSpec::Policy::kStable);
  auto suffix =
      config::parse_ip_source("interface:eth0?suffix=::0:1234&prefix_length=56", true).value();
  EXPECT_EQ(suffix.suffix, "::1234");
  EXPECT_EQ(suffix.prefix_length, 56);
  EXPECT_EQ(config::parse_ip_source("interface:wlan0?policy=temporary", true)->policy,
            IpSourceSpec::Policy::kTemporary);

  EXPECT_EQ(config::parse_ip_source("static:2001:DB8::1", true)->address, "2001:db8::1");
}

struct SyntaxErrorCase {
  const char* text;
  bool ipv6;
  const char* error;
};

class SourceSyntaxErrorTest : public ::testing::TestWithParam<SyntaxErrorCase> {};

TEST_P(SourceSyntaxErrorTest, SaysWhatIsWrong) {
  const SyntaxErrorCase& c = GetParam();
  auto s = config::parse_ip_source(c.text, c.ipv6);
  ASSERT_FALSE(s) << c.text;
  EXPECT_EQ(s.error(), c.error);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SourceSyntaxErrorTest,
    ::testing::Values(
        SyntaxErrorCase{"ipfy", false, "unknown IP source \"ipfy\" (did you mean \"ipify\"?)"},
        SyntaxErrorCase{"static:192.0.2.1", true,
                        "192.0.2.1 is an IPv4 address, but this list is for IPv6"},
        SyntaxErrorCase{"static:home", false, "\"home\" is not an IP address"},
        SyntaxErrorCase{"url:", false, "\"url:\" needs a value after the colon"},
        SyntaxErrorCase{"url:ftp://x/", false, "\"ftp://x/\" is not an http:// or https:// URL"},
        SyntaxErrorCase{"url:https://x/ip#xml", false,
                        "unknown answer format \"#xml\"; use one of: #text, #json, #trace"},
        SyntaxErrorCase{"url:http://127.0.0.1:8080/", true,
                        "the URL's host 127.0.0.1 is an IPv4 address, but ipv6 sources are "
                        "asked over IPv6"},
        SyntaxErrorCase{"url:http://[::1]:8080/", false,
                        "the URL's host ::1 is an IPv6 address, but ipv4 sources are asked over "
                        "IPv4"},
        SyntaxErrorCase{"dns:myip.example", false,
                        "\"dns:myip.example\" names no server; write "
                        "dns:NAME@SERVER[:PORT][/TYPE][/CH], e.g. "
                        "dns:myip.opendns.com@208.67.222.222"},
        SyntaxErrorCase{"dns:my ip@127.0.0.1", false, "\"my ip\" is not a valid DNS name"},
        SyntaxErrorCase{"dns:myip.example@ns1.example", false,
                        "the server \"ns1.example\" must be an IP address: nothing is looked up "
                        "before detection"},
        SyntaxErrorCase{"dns:myip.example@127.0.0.1:99999", false,
                        "the server \"127.0.0.1:99999\" has no valid port (0 to 65535) after the "
                        "colon"},
        SyntaxErrorCase{"dns:myip.example@127.0.0.1/MX", false,
                        "unknown dns source option \"MX\"; use one of: A, AAAA, TXT, CH, IN"},
        SyntaxErrorCase{"dns:myip.example@127.0.0.1/A/TXT", false, "the query type is given twice"},
        SyntaxErrorCase{"dns:myip.example@127.0.0.1/A", true,
                        "/A asks for IPv4 addresses; an ipv6 source asks for /AAAA or /TXT"},
        SyntaxErrorCase{"interface:eth0?suffix=::1", false,
                        "interface options (policy, suffix, prefix_length) apply to ipv6 "
                        "sources only"},
        SyntaxErrorCase{"interface:eth0?sufix=::1", true,
                        "unknown interface option \"sufix\" (did you mean \"suffix\"?)"},
        SyntaxErrorCase{"interface:eth0?policy=newest", true,
                        "unknown policy \"newest\"; use one of: stable, temporary"},
        SyntaxErrorCase{"interface:eth0?suffix=1234", true,
                        "suffix \"1234\" is not an IPv6 address such as ::1234"},
        SyntaxErrorCase{"interface:eth0?suffix=::1:0:0:0:1", true,
                        "suffix ::1:0:0:0:1 sets bits inside the /64 prefix; the host part must "
                        "fit in the last 64 bits"},
        SyntaxErrorCase{"interface:eth0?prefix_length=56", true,
                        "prefix_length applies only with suffix"},
        SyntaxErrorCase{"interface:eth0?suffix=::1&prefix_length=128", true,
                        "prefix_length \"128\" is not an integer from 1 to 127"},
        SyntaxErrorCase{"interface:eth0?suffix", true, "suffix needs a value: suffix=..."},
        SyntaxErrorCase{
            "interface:a/b", false,
            "\"a/b\" is not an interface name (1 to 15 characters, no '/' or spaces)"}));

TEST(SourceSyntaxTest, TheLoaderNamesThePathOfEveryDetectError) {
  auto r = config::parse_config(R"({"detect": {
      "interval": "30s", "timeout": "1m",
      "allow": ["100.64.0.0/10", "10.0.0.1/8"],
      "ca_file": "/nonexistent/ca.pem",
      "ipv4": {"sources": ["static:192.0.2.1", "dns:x@y"]},
      "ipv6": {"sources": ["aws-checkip", "interface:eth0?suffix=::1"]}}})",
                                "/tmp/ddnswatch-test.json",
                                [](const std::string&) { return std::nullopt; });
  ASSERT_FALSE(r);
  std::map<std::string, std::string> errors;
  for (const auto& d : r.error()) errors[d.path] = d.message;
  EXPECT_EQ(errors["/detect/timeout"], "\"1m\" is longer than the interval \"30s\"");
  EXPECT_EQ(errors["/detect/allow/1"],
            "\"10.0.0.1/8\" has bits set after the /8 prefix; write 10.0.0.0/8");
  // The path as the loader prints it: on Windows with a drive and backslashes.
  EXPECT_THAT(errors["/detect/ca_file"],
              HasSubstr(std::filesystem::path("/nonexistent/ca.pem").make_preferred().string()));
  EXPECT_EQ(errors["/detect/ipv4/sources/1"],
            "the server \"y\" must be an IP address: nothing is looked up before detection");
  EXPECT_EQ(errors["/detect/ipv6/sources/0"],
            "aws-checkip has no IPv6 endpoint; list it under ipv4 only");
  EXPECT_EQ(errors.size(), 5u);

  auto good = config::parse_config(R"({"detect": {
      "timeout": "3s", "allow": ["192.0.2.0/24"],
      "ipv4": {"sources": ["cloudflare-trace", "dns:myip.opendns.com@208.67.222.222/A",
                           "url:http://127.0.0.1:1/ip#text"], "quorum": 2},
      "ipv6": {"sources": ["interface:eth0?policy=temporary", "cloudflare-dns"]}}})",
                                   "/tmp/ddnswatch-test.json",
                                   [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(good) << good.error()[0].to_string();
  EXPECT_EQ(good->detect.timeout, seconds(3));
  EXPECT_EQ(good->detect.allow, std::vector<std::string>{"192.0.2.0/24"});
  EXPECT_EQ(good->detect.ipv6->sources.size(), 2u);
}

// --- the echo formats ---

struct ParseCase {
  const char* name;
  std::string body;
  const char* result;  // the address, or the error
  bool ok;
};

class TextAnswerTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(TextAnswerTest, Parses) {
  const ParseCase& c = GetParam();
  auto r = parse_text_answer(c.body);
  ASSERT_EQ(r.has_value(), c.ok) << (r ? *r : r.error().message);
  EXPECT_EQ(r ? *r : r.error().message, c.result);
}

INSTANTIATE_TEST_SUITE_P(
    Table, TextAnswerTest,
    ::testing::Values(
        ParseCase{"Plain", "203.0.113.7", "203.0.113.7", true},
        ParseCase{"Newline", "203.0.113.7\n", "203.0.113.7", true},
        ParseCase{"Whitespace", " \t2001:db8::7\r\n\r\n", "2001:db8::7", true},
        ParseCase{"Empty", "", "the answer is empty", false},
        ParseCase{"OnlyWhitespace", " \n\t", "the answer is empty", false},
        ParseCase{"HtmlPage",
                  "<!DOCTYPE html><html><body>Service unavailable: 203.0.113.7</body></html>",
                  "answer is not an IP address (an HTML page?)", false},
        ParseCase{"TwoAddresses", "203.0.113.7\n203.0.113.8\n", "answer holds 2 addresses, not one",
                  false},
        ParseCase{"TwoAddressesComma", "203.0.113.7, 2001:db8::7",
                  "answer holds 2 addresses, not one", false},
        ParseCase{"ExtraWords", "Your IP is 203.0.113.7",
                  "answer is not an IP address: \"Your IP is 203.0.113.7\"", false},
        ParseCase{"IpWithPort", "203.0.113.7:4242",
                  "answer is not an IP address: \"203.0.113.7:4242\"", false},
        ParseCase{"Binary", std::string("\x01\x02ip\x7f", 5),
                  "answer is not an IP address: \"??ip?\"", false},
        ParseCase{"Long", std::string(100, 'x'),
                  "answer is not an IP address: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"",
                  false}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(EchoFormatTest, CloudflareTrace) {
  const std::string trace =
      "fl=466f77\nh=1.1.1.1\nip=203.0.113.7\nts=1732460400.123\nvisit_scheme=https\n"
      "uag=ddnswatch/0.1.0\ncolo=FRA\nsliver=none\nhttp=http/2\nloc=DE\ntls=TLSv1.3\n"
      "sni=off\nwarp=off\ngateway=off\nrbi=off\nkex=X25519\n";
  EXPECT_EQ(parse_trace_answer(trace).value_or(""), "203.0.113.7");
  EXPECT_EQ(parse_trace_answer("h=x\r\nip=2001:db8::7\r\n").value_or(""), "2001:db8::7");
  EXPECT_EQ(parse_trace_answer("h=x\nts=1\n").error().message, "the trace has no ip= line");
  EXPECT_EQ(parse_trace_answer("ip=203.0.113.7\nip=203.0.113.8\n").error().message,
            "the trace has 2 ip= lines");
  EXPECT_EQ(parse_trace_answer("ip=203.0.113.7 203.0.113.8\n").error().message,
            "ip= holds \"203.0.113.7 203.0.113.8\", not an IP address");
  EXPECT_EQ(parse_trace_answer("<html><body>error 1020</body></html>").error().message,
            "answer is not a trace (an HTML page?)");
  EXPECT_EQ(parse_trace_answer("203.0.113.7\n").error().message,
            "answer is not a trace of key=value lines: \"203.0.113.7\"");
  // The "uip" or "xip" keys are not "ip".
  EXPECT_EQ(parse_trace_answer("xip=203.0.113.7\n").error().message, "the trace has no ip= line");
}

TEST(EchoFormatTest, Json) {
  EXPECT_EQ(parse_json_answer(R"({"ip":"203.0.113.7"})").value_or(""), "203.0.113.7");
  EXPECT_EQ(parse_json_answer(" {\"ip\": \"2001:db8::7\", \"country\": \"DE\"}\n").value_or(""),
            "2001:db8::7");
  EXPECT_EQ(parse_json_answer(R"({"address":"203.0.113.7"})").error().message,
            "answer is not a JSON object with an \"ip\" string");
  EXPECT_EQ(parse_json_answer(R"({"ip":3405803783})").error().message,
            "answer is not a JSON object with an \"ip\" string");
  EXPECT_EQ(parse_json_answer(R"(["203.0.113.7"])").error().message,
            "answer is not a JSON object with an \"ip\" string");
  EXPECT_EQ(parse_json_answer(R"({"ip":"203.0.113.7 "})").error().message,
            "\"ip\" holds \"203.0.113.7 \", not an IP address");
  EXPECT_EQ(parse_json_answer("203.0.113.7").error().message,
            "answer is not JSON: \"203.0.113.7\"");
  EXPECT_EQ(parse_json_answer("\"203.0.113.7\"").error().message,
            "answer is not a JSON object with an \"ip\" string");
  EXPECT_EQ(parse_json_answer("<html>502</html>").error().message,
            "answer is not JSON (an HTML page?)");
  EXPECT_EQ(parse_json_answer("{ip: 1}").error().message, "answer is not JSON: \"{ip: 1}\"");
}

TEST(EchoFormatTest, AutoFollowsTheContentType) {
  using Format = IpSourceSpec::Format;
  const std::string json = R"({"ip":"203.0.113.7"})";
  EXPECT_EQ(parse_echo_answer(Format::kAuto, json, "application/json; charset=utf-8").value_or(""),
            "203.0.113.7");
  EXPECT_EQ(parse_echo_answer(Format::kAuto, json, "application/problem+json").value_or(""),
            "203.0.113.7");
  EXPECT_FALSE(parse_echo_answer(Format::kAuto, json, "text/plain"));
  EXPECT_FALSE(parse_echo_answer(Format::kAuto, json, std::nullopt));
  EXPECT_EQ(parse_echo_answer(Format::kAuto, "203.0.113.7\n", "text/plain").value_or(""),
            "203.0.113.7");
  // An explicit format wins over the header.
  EXPECT_EQ(parse_echo_answer(Format::kText, "203.0.113.7", "application/json").value_or(""),
            "203.0.113.7");
}

TEST(EchoFormatTest, DnsAnswers) {
  using resolvers::Answer;
  using resolvers::Outcome;
  using resolvers::QType;
  auto answer = [](Outcome o, const std::vector<std::string>& values) {
    Answer a;
    a.outcome = o;
    a.rcode = o == Outcome::kNoError ? 0 : 2;
    for (const auto& v : values) a.records.push_back({v, 60});
    return a;
  };
  EXPECT_EQ(parse_dns_answer(answer(Outcome::kNoError, {"203.0.113.7"}), QType::kA).value_or(""),
            "203.0.113.7");
  EXPECT_EQ(parse_dns_answer(answer(Outcome::kNoError, {"203.0.113.7", "203.0.113.7"}), QType::kA)
                .value_or(""),
            "203.0.113.7");
  EXPECT_EQ(parse_dns_answer(answer(Outcome::kNoError, {"203.0.113.7", "203.0.113.8"}), QType::kA)
                .error()
                .message,
            "answer holds 2 addresses, not one");
  EXPECT_EQ(parse_dns_answer(answer(Outcome::kNoError, {"2001:db8::7"}), QType::kTXT).value_or(""),
            "2001:db8::7");
  EXPECT_EQ(parse_dns_answer(answer(Outcome::kNoError, {"hello"}), QType::kTXT).error().message,
            "answer is not an IP address: \"hello\"");
  EXPECT_EQ(parse_dns_answer(answer(Outcome::kNoError, {"203.0.113.7", "edns0-client-subnet x"}),
                             QType::kTXT)
                .error()
                .message,
            "answer holds 2 TXT records, not one");
  EXPECT_EQ(parse_dns_answer(answer(Outcome::kNoData, {}), QType::kAAAA).error().message,
            "no AAAA record (NODATA)");
  EXPECT_EQ(parse_dns_answer(answer(Outcome::kNxDomain, {}), QType::kA).error().message,
            "the name does not exist (NXDOMAIN)");
  EXPECT_EQ(parse_dns_answer(answer(Outcome::kServFail, {}), QType::kA).error().message,
            "SERVFAIL");
  Answer timeout = answer(Outcome::kTimeout, {});
  EXPECT_EQ(parse_dns_answer(timeout, QType::kA).error().message, "timeout");
}

// --- the quorum rule ---

SourceAnswer says(const std::string& source, const std::string& address) {
  return SourceAnswer{source, address, "", milliseconds(5), false};
}
SourceAnswer fails(const std::string& source) {
  return SourceAnswer{source, std::nullopt, "HTTP 503", milliseconds(5), false};
}
SourceAnswer rests(const std::string& source) {
  return SourceAnswer{source, std::nullopt, "backing off for 4m more: HTTP 429", {}, true};
}

struct QuorumCase {
  const char* name;
  std::vector<SourceAnswer> answers;
  int quorum;
  std::optional<std::string> address;
  int agreeing;
  int answered;
  const char* verdict;
};

class QuorumTest : public ::testing::TestWithParam<QuorumCase> {};

TEST_P(QuorumTest, Decides) {
  const QuorumCase& c = GetParam();
  Detection d = decide(Family::kIpv4, c.answers, c.quorum);
  EXPECT_EQ(d.address, c.address);
  EXPECT_EQ(d.agreeing, c.agreeing);
  EXPECT_EQ(d.answered, c.answered);
  EXPECT_EQ(d.quorum, c.quorum);
  EXPECT_EQ(d.verdict, c.verdict);
  EXPECT_EQ(d.answers.size(), c.answers.size());
}

const std::string kA = "198.51.100.7";
const std::string kB = "203.0.113.5";

INSTANTIATE_TEST_SUITE_P(
    Table, QuorumTest,
    ::testing::Values(
        QuorumCase{"AllAgree",
                   {says("a", kA), says("b", kA), says("c", kA)},
                   2,
                   kA,
                   3,
                   3,
                   "ipv4: 198.51.100.7 (3 of 3 sources agree, quorum 2)"},
        QuorumCase{"OneSource",
                   {says("a", kA)},
                   1,
                   kA,
                   1,
                   1,
                   "ipv4: 198.51.100.7 (1 of 1 source agrees, quorum 1)"},
        QuorumCase{"MajorityWithDissent",
                   {says("a", kA), says("b", kB), says("c", kA)},
                   2,
                   kA,
                   2,
                   3,
                   "ipv4: 198.51.100.7 (2 of 3 sources agree, quorum 2; 1 says 203.0.113.5)"},
        QuorumCase{"MajorityBelowQuorum",
                   {says("a", kA), says("b", kA), says("c", kB)},
                   3,
                   std::nullopt,
                   0,
                   3,
                   "ipv4: no address trusted: 2 sources say 198.51.100.7, 1 says 203.0.113.5, "
                   "quorum 3"},
        QuorumCase{"Tie",
                   {says("a", kA), says("b", kB)},
                   1,
                   std::nullopt,
                   0,
                   2,
                   "ipv4: no address trusted: 1 source says 198.51.100.7, 1 says 203.0.113.5 "
                   "(a tie), quorum 1"},
        QuorumCase{"TieOfTwoPairs",
                   {says("a", kB), says("b", kA), says("c", kA), says("d", kB)},
                   2,
                   std::nullopt,
                   0,
                   4,
                   "ipv4: no address trusted: 2 sources say 203.0.113.5, 2 say 198.51.100.7 "
                   "(a tie), quorum 2"},
        QuorumCase{"TooFewAnswers",
                   {says("a", kA), fails("b"), rests("c")},
                   2,
                   std::nullopt,
                   0,
                   1,
                   "ipv4: no address trusted: 1 source says 198.51.100.7, quorum 2; 1 failed, 1 "
                   "skipped"},
        QuorumCase{"EnoughDespiteFailures",
                   {fails("a"), says("b", kA), says("c", kA), rests("d")},
                   2,
                   kA,
                   2,
                   2,
                   "ipv4: 198.51.100.7 (2 of 4 sources agree, quorum 2; 1 failed, 1 skipped)"},
        QuorumCase{"NoAnswer",
                   {fails("a"), fails("b"), rests("c")},
                   1,
                   std::nullopt,
                   0,
                   0,
                   "ipv4: no address trusted: no source gave an address (2 failed, 1 skipped)"}),
    [](const auto& p) { return std::string(p.param.name); });

// --- interfaces ---

// eth0: a hand-configured address, a SLAAC address, two privacy addresses (one deprecated),
// a tentative one, one that failed DAD, a ULA and a link-local; lo; wlan0 with only temporary.
const char* const kIfInet6 =
    "20010db8000100000000000000000053 02 40 00 80     eth0\n"
    "2001047000010000021122fffe334455 02 40 00 00     eth0\n"
    "20010470000100008c3b2a1b0c0d0e0f 02 40 00 01     eth0\n"
    "2001047000010000aaaabbbbccccdddd 02 40 00 21     eth0\n"
    "20010470000100000000000000000abc 02 40 00 40     eth0\n"
    "20010470000100000000000000000def 02 40 00 08     eth0\n"
    "fd000000000000000000000000000002 02 40 00 00     eth0\n"
    "fe8000000000000002112233fe445566 02 40 20 80     eth0\n"
    "00000000000000000000000000000001 01 80 10 80       lo\n"
    "2a0104f8000000000000000000000001 03 40 00 01    wlan0\n"
    "2a0104f8000000000000000000000002 03 40 00 21    wlan0\n"
    "garbage line\n";

IpSourceSpec iface(const std::string& name,
                   IpSourceSpec::Policy policy = IpSourceSpec::Policy::kStable,
                   std::optional<std::string> suffix = std::nullopt, int prefix_length = 64) {
  IpSourceSpec s;
  s.kind = IpSourceSpec::Kind::kInterface;
  s.interface = name;
  s.policy = policy;
  s.suffix = std::move(suffix);
  s.prefix_length = prefix_length;
  return s;
}

TEST(InterfaceTest, ParsesIfInet6) {
  auto entries = parse_if_inet6(kIfInet6);
  ASSERT_EQ(entries.size(), 11u);  // the garbage line is skipped
  EXPECT_EQ(entries[0].address.to_string(), "2001:db8:1::53");
  EXPECT_EQ(entries[0].prefix_length, 64);
  EXPECT_EQ(entries[0].scope, 0);
  EXPECT_EQ(entries[0].flags, kIfaPermanent);
  EXPECT_EQ(entries[0].interface, "eth0");
  EXPECT_EQ(entries[7].scope, 0x20);
  EXPECT_EQ(entries[8].interface, "lo");
  EXPECT_EQ(entries[8].prefix_length, 128);
}

TEST(InterfaceTest, ChoosesTheStableOrTemporaryGlobalAddress) {
  const auto entries = parse_if_inet6(kIfInet6);
  auto strict = AddressFilter::create({}).value();
  auto lab = AddressFilter::create({"2001:db8::/32"}).value();
  // Hand-configured first, if the filter lets it through; else the SLAAC address.
  EXPECT_EQ(choose_ipv6(entries, iface("eth0"), lab).value_or(""), "2001:db8:1::53");
  EXPECT_EQ(choose_ipv6(entries, iface("eth0"), strict).value_or(""),
            "2001:470:1:0:211:22ff:fe33:4455");
  // Never the deprecated privacy address.
  EXPECT_EQ(
      choose_ipv6(entries, iface("eth0", IpSourceSpec::Policy::kTemporary), strict).value_or(""),
      "2001:470:1:0:8c3b:2a1b:c0d:e0f");
  EXPECT_EQ(
      choose_ipv6(entries, iface("wlan0", IpSourceSpec::Policy::kTemporary), strict).value_or(""),
      "2a01:4f8::1");
  auto none = choose_ipv6(entries, iface("wlan0"), strict);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "wlan0 has no usable stable global IPv6 address: 2a01:4f8::1 is a temporary "
            "address; 2a01:4f8::2 is deprecated");
  EXPECT_EQ(choose_ipv6(entries, iface("lo"), strict).error().message,
            "lo has no usable stable global IPv6 address: ::1 is loopback");
  EXPECT_EQ(choose_ipv6(entries, iface("eth9"), strict).error().message,
            "eth9 has no IPv6 address (is the interface name right?)");
}

TEST(InterfaceTest, ExplainsWhyNothingQualifies) {
  const std::string text =
      "20010470000100000000000000000abc 02 40 00 40     eth0\n"
      "20010470000100000000000000000def 02 40 00 08     eth0\n"
      "fd000000000000000000000000000002 02 40 00 00     eth0\n"
      "fe8000000000000002112233fe445566 02 40 20 80     eth0\n"
      "20010470000100000000000000000123 02 40 00 20     eth0\n"
      "20010470000100000000000000000124 02 40 00 20     eth0\n";
  auto r = choose_ipv6(parse_if_inet6(text), iface("eth0"), AddressFilter());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "eth0 has no usable stable global IPv6 address: 2001:470:1::abc is tentative "
            "(duplicate address detection is running); 2001:470:1::def failed duplicate address "
            "detection; fd00::2 is not a public address: fc00::/7 is a unique local range (ULA, "
            "RFC 4193); fe80::211:2233:fe44:5566 is link-local; and 2 more");
}

TEST(InterfaceTest, SuffixReplacesTheHostPart) {
  const auto entries = parse_if_inet6(kIfInet6);
  auto strict = AddressFilter::create({}).value();
  EXPECT_EQ(choose_ipv6(entries, iface("eth0", IpSourceSpec::Policy::kStable, "::1234"), strict)
                .value_or(""),
            "2001:470:1::1234");
  // A /56 prefix keeps 56 bits of the chosen address; the suffix fills the other 72.
  EXPECT_EQ(
      choose_ipv6(entries, iface("eth0", IpSourceSpec::Policy::kStable, "0:0:0:ab::1", 56), strict)
          .value_or(""),
      "2001:470:1:ab::1");
  // The prefix of a ULA stays a ULA: refused.
  const std::string ula = "fd000000000000000000000000000002 02 40 00 00     eth1\n";
  EXPECT_THAT(
      choose_ipv6(parse_if_inet6(ula), iface("eth1", IpSourceSpec::Policy::kStable, "::1"), strict)
          .error()
          .message,
      HasSubstr("fd00::1 is not a public address"));
}

TEST(InterfaceTest, ChoosesAPublicIpv4Address) {
  auto v4 = [](const char* name, const char* address, bool up = true) {
    return Ipv4Entry{name, parse_ip(address).value(), up};
  };
  const std::vector<Ipv4Entry> entries = {v4("lo", "127.0.0.1"),         v4("eth0", "192.168.1.5"),
                                          v4("eth0:1", "198.51.100.20"), v4("ppp0", "100.64.12.34"),
                                          v4("wan", "8.8.4.4", false),   v4("eth2", "9.9.9.9"),
                                          v4("eth2", "149.112.112.112")};
  auto strict = AddressFilter::create({}).value();
  auto docs = AddressFilter::create({"198.51.100.0/24"}).value();
  EXPECT_EQ(choose_ipv4(entries, "eth0", docs).value_or(""), "198.51.100.20");  // its alias
  EXPECT_EQ(choose_ipv4(entries, "eth0", strict).error().message,
            "eth0 has no usable IPv4 address: 192.168.1.5 is not a public address: "
            "192.168.0.0/16 is a private range (RFC 1918); 198.51.100.20 is not a public "
            "address: 198.51.100.0/24 is a documentation range (RFC 5737)");
  EXPECT_THAT(choose_ipv4(entries, "ppp0", strict).error().message, HasSubstr("carrier-grade NAT"));
  EXPECT_EQ(choose_ipv4(entries, "wan", strict).error().message,
            "wan has no usable IPv4 address: wan is down");
  EXPECT_EQ(choose_ipv4(entries, "eth2", strict).value_or(""), "9.9.9.9");
  EXPECT_EQ(choose_ipv4(entries, "eth7", strict).error().message,
            "eth7 has no IPv4 address (is the interface name right?)");
}

// --- backoff ---

TEST(BackoffTest, DoublesUpToTheCapAndBelievesRateLimits) {
  EXPECT_EQ(backoff_delay(1, 0, std::nullopt, 1.0), seconds(30));
  EXPECT_EQ(backoff_delay(2, 0, std::nullopt, 1.0), minutes(1));
  EXPECT_EQ(backoff_delay(4, 503, std::nullopt, 1.0), minutes(4));
  EXPECT_EQ(backoff_delay(30, 0, std::nullopt, 1.0), minutes(60));
  EXPECT_EQ(backoff_delay(1, 0, std::nullopt, 0.8), seconds(24));
  EXPECT_EQ(backoff_delay(30, 0, std::nullopt, 1.2), minutes(72));
  // 429: at least five minutes, longer if the service says so.
  EXPECT_EQ(backoff_delay(1, 429, std::nullopt, 1.0), minutes(5));
  EXPECT_EQ(backoff_delay(1, 429, seconds(10), 1.0), minutes(5));
  EXPECT_EQ(backoff_delay(1, 429, minutes(20), 1.0), minutes(20));
  // 403 or 503 with Retry-After: as given, never less than the exponential rest.
  EXPECT_EQ(backoff_delay(1, 403, minutes(10), 1.0), minutes(10));
  EXPECT_EQ(backoff_delay(1, 403, std::nullopt, 1.0), seconds(30));
  EXPECT_EQ(backoff_delay(3, 503, seconds(10), 1.0), minutes(2));
  // A Retry-After of a week is cut to a day.
  EXPECT_EQ(backoff_delay(1, 429, std::chrono::hours(168), 1.0), std::chrono::hours(24));
}

TEST(BackoffTest, RetryAfterIsSecondsOrAnHttpDate) {
  const WallTime now = std::chrono::system_clock::from_time_t(1732460400);  // 15:00:00 GMT
  EXPECT_EQ(net::parse_retry_after("120", now), seconds(120));
  EXPECT_EQ(net::parse_retry_after("Sun, 24 Nov 2024 15:05:00 GMT", now), minutes(5));
  EXPECT_EQ(net::parse_retry_after("Sun, 24 Nov 2024 14:00:00 GMT", now), Duration::zero());
  EXPECT_EQ(net::parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(net::parse_retry_after("", now), std::nullopt);
  EXPECT_EQ(net::parse_retry_after("-5", now), std::nullopt);
}

TEST(BackoffTest, SourceStateRestsAndRecovers) {
  SourceBackoff b;
  const SteadyTime t0{std::chrono::hours(1)};
  EXPECT_EQ(b.remaining(t0), Duration::zero());
  EXPECT_EQ(b.failed(t0, 0, std::nullopt, 1.0, "timeout"), seconds(30));
  EXPECT_EQ(b.remaining(t0 + seconds(10)), seconds(20));
  EXPECT_EQ(b.reason(), "timeout");
  EXPECT_EQ(b.failed(t0 + seconds(30), 0, std::nullopt, 1.0, "timeout"), minutes(1));
  EXPECT_EQ(b.failures(), 2);
  b.succeeded();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.remaining(t0 + seconds(31)), Duration::zero());
  EXPECT_EQ(format_rest(milliseconds(251001)), "4m12s");
}

// --- the detector on a loop ---

class FakeClock final : public Clock {
 public:
  SteadyTime steady_now() const override { return steady_; }
  WallTime wall_now() const override { return wall_; }
  void advance(Duration d) {
    steady_ += d;
    wall_ += d;
  }

 private:
  SteadyTime steady_{std::chrono::hours(1)};
  WallTime wall_ = std::chrono::system_clock::from_time_t(1732460400);
};

class RecordingObserver : public IpDetectObserver {
 public:
  void ip_sources_configured(const std::string& family,
                             const std::vector<std::string>& sources) override {
    configured[family] = sources;
  }
  void ip_source_result(const std::string& source, const std::string& family, bool up) override {
    results.push_back(family + " " + source + (up ? " up" : " down"));
  }
  void ip_sources_agreeing(const std::string& family, int agreeing) override {
    agreeing_by_family[family] = agreeing;
  }
  std::map<std::string, std::vector<std::string>> configured;
  std::vector<std::string> results;
  std::map<std::string, int> agreeing_by_family;
};

class DetectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    loop_ = std::move(*EventLoop::create());
    http_ = std::move(*net::HttpClient::create(*loop_));
    engine_ = std::move(*resolvers::DnsEngine::create(*loop_, clock_));
    detector_ = std::make_unique<IpDetector>(*loop_, *http_, *engine_, clock_, &observer_);
    InterfaceReader reader;
    reader.read_if_inet6 = [] { return Result<std::string>(kIfInet6); };
    reader.list_ipv4 = [] {
      return Result<std::vector<Ipv4Entry>>(
          std::vector<Ipv4Entry>{{"eth0", parse_ip("192.168.1.5").value(), true},
                                 {"ppp0", parse_ip("9.9.9.9").value(), true}});
    };
    detector_->set_interface_reader(reader);
    detector_->set_jitter([] { return 1.0; });
  }
  void TearDown() override {
    detector_.reset();
    engine_.reset();
    http_.reset();
    loop_.reset();
    curl_global_cleanup();
  }

  Detection run(Family family) {
    std::optional<Detection> out;
    detector_->detect(family, [&](Detection d) { out = std::move(d); });
    EXPECT_TRUE(testing::run_loop_until(
        *loop_, [&] { return out.has_value(); }, seconds(10)));
    return out.value_or(Detection{});
  }

  FakeClock clock_;
  RecordingObserver observer_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<resolvers::DnsEngine> engine_;
  std::unique_ptr<IpDetector> detector_;
};

TEST_F(DetectorTest, LocalSourcesAnswerAfterDetectReturns) {
  config::DetectConfig c;
  c.ipv4 = config::FamilyDetect{{"static:9.9.9.9", "interface:ppp0", "interface:eth0"}, 2};
  c.ipv6 = config::FamilyDetect{{"interface:eth0", "interface:eth0?policy=temporary"}, 1};
  detector_->configure(c);
  EXPECT_EQ(observer_.configured["ipv4"],
            (std::vector<std::string>{"static:9.9.9.9", "interface:ppp0", "interface:eth0"}));

  bool called = false;
  detector_->detect(Family::kIpv4, [&](const Detection&) { called = true; });
  EXPECT_FALSE(called) << "done ran inside detect()";
  ASSERT_TRUE(testing::run_loop_until(
      *loop_, [&] { return called; }, seconds(5)));

  Detection v4 = run(Family::kIpv4);
  EXPECT_EQ(v4.address, "9.9.9.9");
  EXPECT_EQ(v4.verdict, "ipv4: 9.9.9.9 (2 of 3 sources agree, quorum 2; 1 failed)");
  ASSERT_EQ(v4.answers.size(), 3u);
  EXPECT_EQ(v4.answers[2].source, "interface:eth0");
  EXPECT_THAT(v4.answers[2].error, HasSubstr("192.168.0.0/16 is a private range"));
  EXPECT_EQ(observer_.agreeing_by_family["ipv4"], 2);

  // Two different addresses, one source each: a tie, never trusted.
  Detection v6 = run(Family::kIpv6);
  EXPECT_EQ(v6.address, std::nullopt);
  EXPECT_EQ(v6.verdict,
            "ipv6: no address trusted: 1 source says 2001:470:1:0:211:22ff:fe33:4455, 1 says "
            "2001:470:1:0:8c3b:2a1b:c0d:e0f (a tie), quorum 1");
  EXPECT_EQ(observer_.agreeing_by_family["ipv6"], 0);
}

TEST_F(DetectorTest, AFamilyWithoutSourcesEndsWithoutAnAddress) {
  detector_->configure(config::DetectConfig{});
  Detection d = run(Family::kIpv6);
  EXPECT_EQ(d.address, std::nullopt);
  EXPECT_EQ(d.verdict, "ipv6: no sources configured");
  EXPECT_TRUE(observer_.configured.count("ipv6"));
}

TEST_F(DetectorTest, ConcurrentCallsShareOneDetection) {
  config::DetectConfig c;
  c.ipv4 = config::FamilyDetect{{"static:9.9.9.9"}, 1};
  detector_->configure(c);
  int calls = 0;
  std::vector<Detection> got;
  detector_->detect(Family::kIpv4, [&](Detection d) { got.push_back(std::move(d)); });
  detector_->detect(Family::kIpv4, [&](Detection d) { got.push_back(std::move(d)); });
  ASSERT_TRUE(testing::run_loop_until(
      *loop_, [&] { return got.size() == 2; }, seconds(5)));
  for (const auto& r : observer_.results) calls += r == "ipv4 static:9.9.9.9 up";
  EXPECT_EQ(calls, 1) << "the source was asked once for both callers";
  EXPECT_EQ(got[0].address, "9.9.9.9");
  EXPECT_EQ(got[1].address, "9.9.9.9");
}

TEST_F(DetectorTest, AFailingSourceRestsForItsBackoffAndNoLonger) {
  // Nothing listens on this port: every request is refused at once.
  const std::string source = "url:http://127.0.0.1:" + std::to_string(testing::free_port()) + "/ip";
  config::DetectConfig c;
  c.timeout = seconds(2);
  c.ipv4 = config::FamilyDetect{{source, "static:9.9.9.9"}, 1};
  detector_->configure(c);

  Detection first = run(Family::kIpv4);
  EXPECT_EQ(first.address, "9.9.9.9") << "the other source still answers";
  EXPECT_FALSE(first.answers[0].skipped);
  EXPECT_THAT(first.answers[0].error, HasSubstr("connect"));
  EXPECT_THAT(first.answers[0].error, HasSubstr(", backing off 30s"));

  clock_.advance(seconds(29));
  Detection resting = run(Family::kIpv4);
  EXPECT_TRUE(resting.answers[0].skipped);
  EXPECT_THAT(resting.answers[0].error, HasSubstr("backing off for 1s more: connect"));
  EXPECT_EQ(resting.verdict, "ipv4: 9.9.9.9 (1 of 2 sources agrees, quorum 1; 1 skipped)");

  clock_.advance(seconds(1));
  Detection second = run(Family::kIpv4);
  EXPECT_FALSE(second.answers[0].skipped) << "asked again once the rest is over";
  EXPECT_THAT(second.answers[0].error, HasSubstr(", backing off 1m"));

  clock_.advance(seconds(59));
  EXPECT_TRUE(run(Family::kIpv4).answers[0].skipped);
  clock_.advance(seconds(1));
  EXPECT_FALSE(run(Family::kIpv4).answers[0].skipped);

  // A reload that keeps the source keeps its backoff.
  detector_->configure(c);
  EXPECT_TRUE(run(Family::kIpv4).answers[0].skipped);
}

TEST_F(DetectorTest, ASourceTheConfigCannotUseSaysWhy) {
  config::DetectConfig c;
  c.allow = {"10.0.0.1/8"};  // not checked by a loader here
  c.ipv4 = config::FamilyDetect{{"static:2001:db8::1", "nonsense", "static:10.1.1.1"}, 1};
  detector_->configure(c);
  Detection d = run(Family::kIpv4);
  EXPECT_EQ(d.answers[0].error, "2001:db8::1 is an IPv6 address, but this list is for IPv4");
  EXPECT_THAT(d.answers[1].error, HasSubstr("unknown IP source \"nonsense\""));
  EXPECT_THAT(d.answers[2].error, HasSubstr("10.0.0.0/8 is a private range"));
  EXPECT_EQ(d.address, std::nullopt);
}

}  // namespace
}  // namespace ddnswatch::ipdetect
