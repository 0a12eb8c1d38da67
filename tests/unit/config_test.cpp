// The config loader: every bad config gets each of its errors with the exact JSON path and
// message a user will read; good configs come out with their defaults and secrets intact.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "support/temp_dir.h"

namespace ddnswatch::config {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const std::string kRecord =
    R"({"name": "home.example.com", "type": "A",
        "provider": {"kind": "cloudflare", "zone": "example.com", "token": "t0ken"}})";

std::string with_records(const std::string& records) { return R"({"records": [)" + records + "]}"; }

// A path as the loader reports it: absolute and in the system's own form. On Linux that is
// the path itself; on Windows "/etc/x" is "C:\etc\x" on the current drive.
std::string native(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

struct BadConfig {
  std::string name;
  std::string json;
  std::vector<Diagnostic> expected;
};

void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.name; }

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, ReportsEveryErrorWithItsPath) {
  const BadConfig& c = GetParam();
  auto result = parse_config(c.json, "/etc/ddnswatch/ddnswatch.json", env_of({}));
  ASSERT_FALSE(result.has_value()) << "accepted: " << c.json;
  EXPECT_THAT(result.error(), ElementsAreArray(c.expected));
}

const BadConfig kBadConfigs[] = {
    {"UnknownKeySuggestsClosest",
     R"({"lisen": "127.0.0.1:9877"})",
     {{"/lisen", R"(unknown key (did you mean "listen"?))"}}},
    {"UnknownKeyListsAllowedKeys",
     R"({"frobnicate": 1})",
     {{"/frobnicate",
       "unknown key; allowed here: $schema, listen, state_dir, log, detect, update, records, "
       "resolvers, watch, notify, web"}}},
    {"RootMustBeObject", R"([])", {{"/", "expected an object, got an array"}}},
    {"ListenWrongType", R"({"listen": 9877})", {{"/listen", "expected a string, got an integer"}}},
    {"ListenNeedsPort",
     R"({"listen": "127.0.0.1"})",
     {{"/listen", R"("127.0.0.1" needs a port, such as "127.0.0.1:9877")"}}},
    {"ListenPortOutOfRange",
     R"({"listen": "127.0.0.1:99999"})",
     {{"/listen", R"("127.0.0.1:99999" has no valid port (0 to 65535) after the colon)"}}},
    {"ListenNeedsIpAddress",
     R"({"listen": "localhost:9877"})",
     {{"/listen", R"("localhost:9877" must use an IP address, such as "127.0.0.1:9877")"}}},
    {"StateDirEmpty", R"({"state_dir": ""})", {{"/state_dir", "must not be empty"}}},
    {"LogLevelMisspelled",
     R"({"log": {"level": "inf"}})",
     {{"/log/level", R"(unknown log level "inf" (did you mean "info"?))"}}},
    {"LogFormatUnknown",
     R"({"log": {"format": "yaml"}})",
     {{"/log/format", R"(unknown log format "yaml"; use one of: text, json)"}}},
    {"DurationAsNumber",
     R"({"detect": {"interval": 60}})",
     {{"/detect/interval", R"(expected a duration string such as "30s", got an integer)"}}},
    {"DurationBadUnit",
     R"({"detect": {"interval": "60x"}})",
     {{"/detect/interval",
       R"("60x" is not a duration; write a number and a unit (ms, s, m, h, d), such as "30s", )"
       R"("5m" or "1h30m")"}}},
    {"DurationBelowMinimum",
     R"({"detect": {"interval": "1s"}})",
     {{"/detect/interval", R"("1s" is too short; the minimum is "10s")"}}},
    {"QuorumLargerThanSources",
     R"({"detect": {"ipv4": {"sources": ["ipify", "icanhazip"], "quorum": 3}}})",
     {{"/detect/ipv4/quorum", "a quorum of 3 needs at least 3 sources, but 2 are listed"}}},
    {"IpSourceMisspelled",
     R"({"detect": {"ipv4": {"sources": ["cloudflare-trace", "ipfy"]}}})",
     {{"/detect/ipv4/sources/1", R"(unknown IP source "ipfy" (did you mean "ipify"?))"}}},
    {"StaticSourceNotAnAddress",
     R"({"detect": {"ipv4": {"sources": ["static:home"]}}})",
     {{"/detect/ipv4/sources/0", R"("home" is not an IP address)"}}},
    {"ProviderKindMisspelled",
     with_records(R"({"name": "home.example.com", "type": "A",
                      "provider": {"kind": "cloudfare", "zone": "example.com", "token": "x"}})"),
     {{"/records/0/provider/kind",
       R"(unknown provider "cloudfare" (did you mean "cloudflare"?))"}}},
    {"RecordTypeMisspelled",
     with_records(R"({"name": "home.example.com", "type": "AAA",
                      "provider": {"kind": "cloudflare", "zone": "example.com", "token": "x"}})"),
     {{"/records/0/type", R"(unknown record type "AAA" (did you mean "AAAA"?))"}}},
    {"RecordWithoutProvider",
     with_records(R"({"name": "home.example.com", "type": "A"})"),
     {{"/records/0", R"(missing required key "provider")"}}},
    {"TtlOutOfRange",
     with_records(R"({"name": "home.example.com", "type": "A", "ttl": 0,
                      "provider": {"kind": "cloudflare", "zone": "example.com", "token": "x"}})"),
     {{"/records/0/ttl", "0 is out of range; use an integer from 1 to 86400"}}},
    {"TtlAsString",
     with_records(R"({"name": "home.example.com", "type": "A", "ttl": "120",
                      "provider": {"kind": "cloudflare", "zone": "example.com", "token": "x"}})"),
     {{"/records/0/ttl", "expected an integer, got a string"}}},
    {"MisspelledSecretKeyAlsoReportsMissingSecret",
     with_records(R"({"name": "home.example.com", "type": "A",
                      "provider": {"kind": "cloudflare", "zone": "example.com", "tokne": "x"}})"),
     {{"/records/0/provider/tokne", R"(unknown key (did you mean "token"?))"},
      {"/records/0/provider", R"(missing required key "token" (or "token_file"))"}}},
    {"SecretGivenTwice",
     with_records(R"({"name": "home.example.com", "type": "A",
                      "provider": {"kind": "cloudflare", "zone": "example.com", "token": "x",
                                   "token_file": "cf.token"}})"),
     {{"/records/0/provider", R"(set either "token" or "token_file", not both)"}}},
    {"UnsetEnvironmentVariable",
     with_records(R"({"name": "home.example.com", "type": "A",
                      "provider": {"kind": "cloudflare", "zone": "example.com",
                                   "token": "${CF_API_TOKEN}"}})"),
     {{"/records/0/provider/token", "environment variable CF_API_TOKEN is not set"}}},
    {"UnterminatedEnvironmentReference",
     R"({"state_dir": "/var/lib/${HOME"})",
     {{"/state_dir", R"(unterminated "${"; write ${NAME}, or $$ for a literal $)"}}},
    {"RecordOutsideZone",
     with_records(R"({"name": "home.example.com", "type": "A",
                      "provider": {"kind": "cloudflare", "zone": "example.org", "token": "x"}})"),
     {{"/records/0/provider/zone", "record home.example.com is not inside zone example.org"}}},
    {"RecordNameInvalid",
     with_records(R"({"name": "home..example.com", "type": "A",
                      "provider": {"kind": "cloudflare", "zone": "example.com", "token": "x"}})"),
     {{"/records/0/name", R"("home..example.com" is not a valid DNS name)"}}},
    {"DuplicateRecord",
     with_records(kRecord + "," + kRecord),
     {{"/records/1", "duplicate record home.example.com/A (also at /records/0)"}}},
    {"TsigSecretNotBase64",
     with_records(R"({"name": "home.example.com", "type": "A",
                      "provider": {"kind": "rfc2136", "zone": "example.com", "server": "127.0.0.1",
                                   "key_name": "ddns", "key_secret": "not base64!"}})"),
     {{"/records/0/provider/key_secret",
       "the TSIG secret is not base64 (copy the secret from tsig-keygen's output)"}}},
    {"TsigAlgorithmUnsupported",
     with_records(R"({"name": "home.example.com", "type": "A",
                      "provider": {"kind": "rfc2136", "zone": "example.com", "server": "127.0.0.1",
                                   "key_name": "ddns", "key_algorithm": "hmac-md5",
                                   "key_secret": "c2VjcmV0"}})"),
     {{"/records/0/provider/key_algorithm",
       R"(unknown TSIG algorithm "hmac-md5"; use one of: hmac-sha256, hmac-sha512)"}}},
    {"Rfc2136ServerNotAnAddress",
     with_records(R"({"name": "home.example.com", "type": "A",
                      "provider": {"kind": "rfc2136", "zone": "example.com", "server": "ns1",
                                   "key_name": "ddns", "key_secret": "c2VjcmV0"}})"),
     {{"/records/0/provider/server", R"("ns1" is not an IP address with an optional port)"}}},
    {"EndpointNotForDyndns2",
     with_records(R"({"name": "home.example.com", "type": "A",
                      "provider": {"kind": "dyndns2", "server": "https://members.example.net",
                                   "username": "u", "password": "p",
                                   "endpoint": "https://x.example"}})"),
     {{"/records/0/provider/endpoint",
       R"("endpoint" does not apply to dyndns2; its address is set by "server")"}}},
    {"RecordAddressOfTheOtherFamily",
     with_records(R"({"name": "home.example.com", "type": "A",
                      "addresses": ["detected", "2001:db8::1"],
                      "provider": {"kind": "cloudflare", "zone": "example.com", "token": "x"}})"),
     {{"/records/0/addresses/1",
       R"("2001:db8::1" is not an IPv4 address, as a record of type A needs)"}}},
    {"RecordAddressMisspelled",
     with_records(R"({"name": "home.example.com", "type": "A", "addresses": ["detect"],
                      "provider": {"kind": "cloudflare", "zone": "example.com", "token": "x"}})"),
     {{"/records/0/addresses/0",
       R"("detect" is neither "detected" (the trusted public address) nor an IP address)"}}},
    {"RecordAddressTwice",
     with_records(R"({"name": "home.example.com", "type": "A",
                      "addresses": ["203.0.113.5", "detected", "203.0.113.5"],
                      "provider": {"kind": "cloudflare", "zone": "example.com", "token": "x"}})"),
     {{"/records/0/addresses", "an address is listed twice"}}},
    {"RecordAddressesEmpty",
     with_records(R"({"name": "home.example.com", "type": "A", "addresses": [],
                      "provider": {"kind": "cloudflare", "zone": "example.com", "token": "x"}})"),
     {{"/records/0/addresses", "must list at least one entry"}}},
    {"WatchExpectMisspelled",
     R"({"watch": [{"name": "home.example.com", "type": "A", "expect": "records",
                    "resolvers": ["world"]}]})",
     {{"/watch/0/expect", R"("records" is not an expectation (did you mean "record"?); use )"
                          R"("record", "authoritative" or a list of addresses)"}}},
    {"WatchExpectWrongFamily",
     R"({"watch": [{"name": "home.example.com", "type": "A", "expect": ["2001:db8::1"],
                    "resolvers": ["world"]}]})",
     {{"/watch/0/expect/0", R"("2001:db8::1" is not an IPv4 address)"}}},
    {"WatchExpectRecordWithoutRecord",
     R"({"watch": [{"name": "home.example.com", "type": "A", "expect": "record",
                    "resolvers": ["world"]}]})",
     {{"/watch/0/expect", R"("record" needs a record home.example.com of type A in /records)"}}},
    {"WatchWithoutResolvers",
     R"({"watch": [{"name": "home.example.com", "type": "A", "expect": ["192.0.2.1"],
                    "resolvers": []}]})",
     {{"/watch/0/resolvers", "must list at least one entry"}}},
    {"WebhookEventMisspelled",
     R"({"notify": {"webhooks": [{"url": "https://hooks.example/x", "events": ["ip_change"]}]}})",
     {{"/notify/webhooks/0/events/0",
       R"(unknown event "ip_change" (did you mean "ip_changed"?))"}}},
    {"WebhookUrlNotEchoed",
     R"({"notify": {"webhooks": [{"url": "hooks.example/T0KEN"}]}})",
     {{"/notify/webhooks/0/url", "is not an http:// or https:// URL"}}},
    {"WebhookPlaceholderUnknown",
     R"({"notify": {"webhooks": [{"url": "https://hooks.example/x",
                                  "body": {"text": {"content": "{{summery}} at {{name}}"}}}]}})",
     {{"/notify/webhooks/0/body/text/content",
       R"(unknown placeholder "summery" (did you mean "summary"?))"}}},
    {"WebhookBodyNotAnObject",
     R"({"notify": {"webhooks": [{"url": "https://hooks.example/x", "body": "{{summary}}"}]}})",
     {{"/notify/webhooks/0/body",
       "expected a JSON object (the message body, with {{placeholders}} in its strings), got a "
       "string"}}},
    {"WebhookSecretNeedsSigningPreset",
     R"({"notify": {"webhooks": [{"url": "https://hooks.example/x", "secret": "SECabc"}]}})",
     {{"/notify/webhooks/0/secret",
       R"(only the dingtalk and feishu presets sign their messages; remove it or set "preset")"}}},
    {"WebhookNamesCollide",
     R"({"notify": {"webhooks": [{"url": "https://a.example/x", "name": "ops"},
                                 {"url": "https://b.example/x", "name": "ops"}]}})",
     {{"/notify/webhooks", R"(two webhooks are named "ops"; give each a distinct "name")"}}},
    {"UpdateBackoffShorterThanErrorInterval",
     R"({"update": {"error_interval": "5m", "max_backoff": "1m"}})",
     {{"/update/max_backoff", R"("1m" is shorter than error_interval "5m")"}}},
    {"UpdateMaxIntervalTooShort",
     R"({"update": {"max_interval": "10s"}})",
     {{"/update/max_interval", R"("10s" is too short; the minimum is "1m")"}}},
    {"NotifyCaFileMissing",
     R"({"notify": {"alertmanager": "https://am.example:9093", "ca_file": "/nonexistent/ca.pem"}})",
     {{"/notify/ca_file",
       "cannot read \"" + native("/nonexistent/ca.pem") + "\": No such file or directory"}}},
    {"WebhookNamedAlertmanager",
     R"({"notify": {"webhooks": [{"url": "https://a.example/x", "name": "alertmanager"}]}})",
     {{"/notify/webhooks/0/name",
       R"("alertmanager" names the Alertmanager sink; choose another name)"}}},
    {"BuiltInSetRedefined",
     R"({"resolvers": {"sets": {"authoritative": ["google"]}}})",
     {{"/resolvers/sets/authoritative",
       R"("authoritative" is a built-in set and cannot be redefined)"}}},
    {"CustomResolverBadAddress",
     R"({"resolvers": {"custom": [{"id": "home", "address": "192.0.2.53:dns"}]}})",
     {{"/resolvers/custom/0/address",
       R"("192.0.2.53:dns" is not an IP address with an optional port)"}}},
    {"ResolverTimeoutTooShort",
     R"({"resolvers": {"timeout": "50ms", "tries": 0}})",
     {{"/resolvers/timeout", R"("50ms" is too short; the minimum is "100ms")"},
      {"/resolvers/tries", "0 is out of range; use an integer from 1 to 10"}}},
    {"CustomResolverTransportAndLimits",
     R"({"resolvers": {"custom": [{"id": "home", "address": "192.0.2.53", "transport": "udp-onyl",
                                   "max_in_flight": 0, "rate_limit": -1}]}})",
     {{"/resolvers/custom/0/transport",
       R"(unknown transport "udp-onyl" (did you mean "udp-only"?))"},
      {"/resolvers/custom/0/rate_limit", "-1 is out of range; use an integer from 0 to 100000"},
      {"/resolvers/custom/0/max_in_flight", "0 is out of range; use an integer from 1 to 1000"}}},
    {"AuthoritativePortOutOfRange",
     R"({"resolvers": {"authoritative_port": 70000, "bootstrap": ""}})",
     {{"/resolvers/bootstrap", "must not be empty"},
      {"/resolvers/authoritative_port", "70000 is out of range; use an integer from 1 to 65535"}}},
    {"BasicAuthIncomplete",
     R"({"web": {"basic_auth": {"username": "prom:etheus"}}})",
     {{"/web/basic_auth/username",
       "must not contain ':' (HTTP basic auth separates it from the password with one)"},
      {"/web/basic_auth", R"(missing required key "password" (or "password_file"))"}}},
    {"TlsNeedsBothFiles",
     R"({"web": {"tls": {"cert_file": "/nonexistent-ddnswatch-test/cert.pem"}}})",
     {{"/web/tls/cert_file", "cannot read \"" + native("/nonexistent-ddnswatch-test/cert.pem") +
                                 "\": No such file or directory"},
      {"/web/tls", R"(missing required key "key_file")"}}},
    {"TlsKeysAreChecked",
     R"({"web": {"tls": {"certfile": "a.pem", "key_file": ""}}})",
     {{"/web/tls/certfile", R"(unknown key (did you mean "cert_file"?))"},
      {"/web/tls", R"(missing required key "cert_file")"},
      {"/web/tls/key_file", "must not be empty"}}},
    {"ReservedResolverId",
     R"({"resolvers": {"custom": [{"id": "bootstrap", "address": "192.0.2.53"}]}})",
     {{"/resolvers/custom/0/id",
       R"("bootstrap" is reserved for ddnswatch's own resolvers; choose another id)"}}},
    {"SyntaxErrorHasLineAndColumn",
     "{\n  \"listen\": }\n",
     {{"",
       "line 2, column 13: syntax error while parsing value - unexpected '}'; expected '[', "
       "'{', or a literal"}}},
    {"NumberBeyondADoubleIsAnErrorNotACrash",
     R"({"detect": {"interval": "5m", "ipv4": {"quorum": 1e999}}})",
     {{"",
       "a number in the file is too large for JSON's numbers (beyond ±1.8e308); write a "
       "smaller one"}}},
    {"EveryErrorNotJustTheFirst",
     R"({"lisen": "x", "log": {"level": "loud"}, "detect": {"interval": "5"}})",
     {{"/lisen", R"(unknown key (did you mean "listen"?))"},
      {"/log/level", R"(unknown log level "loud"; use one of: trace, debug, info, warn, error, )"
                     R"(critical, off)"},
      {"/detect/interval",
       R"("5" is not a duration; write a number and a unit (ms, s, m, h, d), such as "30s", )"
       R"("5m" or "1h30m")"}}},
};

INSTANTIATE_TEST_SUITE_P(Config, BadConfigTest, ::testing::ValuesIn(kBadConfigs),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(ConfigTest, ExpectedAddressesAreStoredInCanonicalForm) {
  // Answers are printed the canonical way; "2001:DB8:0:0::1" must compare equal to them.
  auto c = parse_config(R"({"watch": [{"name": "v6.example.com", "type": "AAAA",
                                      "expect": ["2001:DB8:0:0::1"], "resolvers": ["google"]}]})",
                        "/etc/ddnswatch/ddnswatch.json", env_of({}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->watch[0].expected_addresses, std::vector<std::string>{"2001:db8::1"});
}

TEST(ConfigTest, EmptyObjectGivesDefaults) {
  auto c = parse_config("{}", "/etc/ddnswatch/ddnswatch.json", env_of({}));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->listen.to_string(), "127.0.0.1:9877");
#ifdef _WIN32
  EXPECT_EQ(c->state_dir, "C:\\ProgramData\\ddnswatch");
#else
  EXPECT_EQ(c->state_dir, "/var/lib/ddnswatch");
#endif
  EXPECT_EQ(c->log.level, "info");
  EXPECT_EQ(c->detect.interval, std::chrono::minutes(5));
  EXPECT_TRUE(c->records.empty());
  EXPECT_EQ(c->source, native("/etc/ddnswatch/ddnswatch.json"));
}

TEST(ConfigTest, ExpandsEnvironmentVariablesAndDollarEscapes) {
  auto c = parse_config(with_records(R"({"name": "home.example.com", "type": "A",
      "provider": {"kind": "cloudflare", "zone": "${ZONE}", "token": "a$$b${TOKEN}"}})"),
                        "/etc/x.json", env_of({{"ZONE", "example.com"}, {"TOKEN", "s3cret"}}));
  ASSERT_TRUE(c.has_value()) << c.error()[0].to_string();
  const auto& cf = std::get<CloudflareProvider>(c->records[0].provider.settings);
  EXPECT_EQ(cf.zone, "example.com");
  EXPECT_EQ(cf.token.reveal(), "a$bs3cret");
}

TEST(ConfigTest, ReadsSecretFilesRelativeToTheConfigAndTrimsTheNewline) {
  testing::TempDir dir;
  dir.write("secrets/cf.token", "from-file\n");
  auto c = parse_config(with_records(R"({"name": "home.example.com", "type": "A",
      "provider": {"kind": "cloudflare", "zone": "example.com",
                   "token_file": "secrets/cf.token"}})"),
                        dir.path() / "ddnswatch.json", env_of({}));
  ASSERT_TRUE(c.has_value()) << c.error()[0].to_string();
  EXPECT_EQ(std::get<CloudflareProvider>(c->records[0].provider.settings).token.reveal(),
            "from-file");
}

TEST(ConfigTest, MissingSecretFileNamesThePath) {
  testing::TempDir dir;
  auto c = parse_config(with_records(R"({"name": "home.example.com", "type": "A",
      "provider": {"kind": "cloudflare", "zone": "example.com", "token_file": "nope.token"}})"),
                        dir.path() / "ddnswatch.json", env_of({}));
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error(),
              ElementsAre(Diagnostic{"/records/0/provider/token_file",
                                     (dir.path() / "nope.token").string() + ": no such file"}));
}

TEST(ConfigTest, TlsFilesAreTakenRelativeToTheConfig) {
  testing::TempDir dir;
  dir.write("tls/fullchain.pem", "certificate\n");
  dir.write("tls/privkey.pem", "key\n");
  auto c = parse_config(
      R"({"web": {"tls": {"cert_file": "tls/fullchain.pem", "key_file": "tls/privkey.pem"}}})",
      dir.path() / "ddnswatch.json", env_of({}));
  ASSERT_TRUE(c.has_value()) << c.error()[0].to_string();
  ASSERT_TRUE(c->web.tls.has_value());
  EXPECT_EQ(c->web.tls->cert_file, dir.path() / "tls/fullchain.pem");
  EXPECT_EQ(c->web.tls->key_file, dir.path() / "tls/privkey.pem");
  EXPECT_FALSE(parse_config("{}", dir.path() / "ddnswatch.json", env_of({}))->web.tls);
}

TEST(ConfigTest, TlsFilesMustBeReadableWhenChecked) {
  testing::TempDir dir;
  dir.write("cert.pem", "certificate\n");
  std::filesystem::create_directories(dir.path() / "keys");
  auto c = parse_config(R"({"web": {"tls": {"cert_file": "cert.pem", "key_file": "key.pem"}}})",
                        dir.path() / "ddnswatch.json", env_of({}));
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error(),
              ElementsAre(Diagnostic{"/web/tls/key_file",
                                     fmt::format(R"(cannot read "{}": No such file or directory)",
                                                 (dir.path() / "key.pem").string())}));
  // A folder where the file should be: the same error, with its reason.
  c = parse_config(R"({"web": {"tls": {"cert_file": "cert.pem", "key_file": "keys"}}})",
                   dir.path() / "ddnswatch.json", env_of({}));
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error(), ElementsAre(Diagnostic{"/web/tls/key_file",
                                                fmt::format(R"(cannot read "{}": Is a directory)",
                                                            (dir.path() / "keys").string())}));
}

TEST(ConfigTest, EmptySecretFileIsAnError) {
  testing::TempDir dir;
  dir.write("cf.token", "\n");
  auto c = parse_config(with_records(R"({"name": "home.example.com", "type": "A",
      "provider": {"kind": "cloudflare", "zone": "example.com", "token_file": "cf.token"}})"),
                        dir.path() / "ddnswatch.json", env_of({}));
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error(), ElementsAre(Diagnostic{"/records/0/provider/token_file",
                                                (dir.path() / "cf.token").string() + " is empty"}));
}

TEST(ConfigTest, SecretValuesNeverAppearInErrors) {
  // A syntax error right after a secret must not quote it back.
  auto c = parse_config(R"({"records": [{"provider": {"token": "hunter2-secret" x}}]})",
                        "/etc/x.json", env_of({}));
  ASSERT_FALSE(c.has_value());
  for (const auto& d : c.error()) EXPECT_THAT(d.to_string(), Not(HasSubstr("hunter2")));
}

TEST(ConfigTest, SecretsPrintAsStars) {
  Secret s("hunter2");
  std::ostringstream out;
  out << s;
  EXPECT_EQ(out.str(), "***");
  EXPECT_EQ(fmt::format("token={}", s), "token=***");
  EXPECT_EQ(s.reveal(), "hunter2");
}

TEST(ConfigTest, ParsesAFullConfig) {
  auto c = parse_config(R"({
    "listen": "127.0.0.2:9100",
    "state_dir": "state",
    "log": {"level": "debug", "format": "json"},
    "detect": {"interval": "1m30s", "ipv4": {"sources": ["ipify", "static:192.0.2.7"], "quorum": 2}},
    "records": [{"name": "home.example.com.", "type": "AAAA", "ttl": 60,
                 "provider": {"kind": "powerdns", "zone": "example.com", "url": "http://127.0.0.1:8081",
                              "api_key": "k"}}],
    "resolvers": {"catalog": "resolvers/public.json", "sets": {"mine": ["home"]},
                  "custom": [{"id": "home", "address": "[2001:db8::53]:5353", "transport": "tcp"}]},
    "watch": [{"name": "home.example.com", "type": "AAAA", "expect": "record",
               "resolvers": ["mine", "authoritative"], "interval": "10s"}],
    "notify": {"webhooks": [{"url": "https://hooks.example/x", "preset": "slack",
                             "events": ["ip_changed"], "headers": {"X-Token": "t"}}],
               "alertmanager": "http://127.0.0.1:9093"}
  })",
                        "/etc/ddnswatch/ddnswatch.json", env_of({}));
  ASSERT_TRUE(c.has_value()) << c.error()[0].to_string();
  EXPECT_EQ(c->listen.to_string(), "127.0.0.2:9100");
  EXPECT_EQ(c->state_dir, native("/etc/ddnswatch/state"));
  EXPECT_EQ(c->detect.interval, std::chrono::seconds(90));
  EXPECT_EQ(c->detect.ipv4->quorum, 2);
  EXPECT_EQ(c->records[0].name, "home.example.com");
  EXPECT_EQ(c->records[0].id(), "home.example.com/AAAA");
  EXPECT_EQ(c->records[0].provider.kind(), "powerdns");
  EXPECT_EQ(c->resolvers.catalog, native("/etc/ddnswatch/resolvers/public.json"));
  EXPECT_EQ(c->resolvers.custom[0].transport, "tcp");
  EXPECT_EQ(c->watch[0].expect, WatchConfig::Expect::kRecord);
  EXPECT_EQ(c->watch[0].interval, std::chrono::seconds(10));
  EXPECT_EQ(c->notify.webhooks[0].preset, "slack");
  EXPECT_EQ(c->notify.webhooks[0].name, "webhook-0");
  EXPECT_EQ(c->notify.webhooks[0].body_template, "");
  EXPECT_EQ(*c->notify.alertmanager, "http://127.0.0.1:9093");
}

TEST(ConfigTest, DidYouMeanOnlySuggestsCloseWords) {
  EXPECT_EQ(did_you_mean("cloudfare", {"cloudflare", "alidns"}), "cloudflare");
  EXPECT_EQ(did_you_mean("LISTEN", {"listen"}), "listen");
  EXPECT_EQ(did_you_mean("recrods", {"records"}), "records");  // transposition
  EXPECT_EQ(did_you_mean("xyz", {"cloudflare", "alidns"}), std::nullopt);
}

}  // namespace
}  // namespace ddnswatch::config
