// The IP sources and the HTTP providers against servers that misbehave on purpose (support/
// hostile_http.h): an HTML page or half a JSON document where JSON was expected, 5xx, 429 with
// Retry-After in seconds and as an HTTP-date, a body that never ends (fast or one byte at a
// time), a Content-Length never fulfilled, a body far too large, a server that never answers,
// and certificates that do not verify (expired, for another host, self-signed). Every case must
// end within its deadline with a clear message that never shows a secret; in the daemon each is
// counted as a failure of its source or provider, retried politely, and the daemon runs on.
#include "support/hostile_http.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "net/http_client.h"
#include "providers/provider.h"
#include "support/detector_harness.h"
#include "support/http_get.h"
#include "support/loop_runner.h"
#include "support/metrics_text.h"
#include "support/pki.h"
#include "support/process.h"
#include "support/provider_harness.h"
#include "support/receiver.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using testing::HostileHttpServer;

constexpr char kSecret[] = "hostile-secret-7f3a9c";
constexpr char kAddress[] = "198.51.100.7";  // what the honest source answers
constexpr milliseconds kProviderTimeout{700};

bool printable(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == '\n' || (c >= 0x20 && c < 0x7f); });
}

// What a failure's message must say, by the server's misbehaviour.
std::string expected_words(const std::string& mode) {
  if (mode == "endless" || mode == "huge") return "larger than";
  if (mode == "trickle" || mode == "unfulfilled" || mode == "silent") return "timeout";
  if (mode == "503") return "HTTP 503";
  if (mode == "429-seconds" || mode == "429-date") return "429";
  return "";
}

// --- Providers -------------------------------------------------------------------------------

/// The config of a provider of `kind` whose API is at `base` (an endpoint override), with
/// kSecret as its secret.
config::ProviderConfig provider_config(const std::string& kind, const std::string& base) {
  config::ProviderConfig c;
  if (kind == "cloudflare") {
    c.settings = config::CloudflareProvider{"example.com", Secret(kSecret)};
    c.endpoint = base;
  } else if (kind == "alidns") {
    c.settings = config::AlidnsProvider{"example.com", "LTAI5tHostileKeyId", Secret(kSecret)};
    c.endpoint = base;
  } else if (kind == "dnspod") {
    c.settings = config::DnspodProvider{"example.com", "AKIDHostileSecretId", Secret(kSecret)};
    c.endpoint = base;
  } else if (kind == "dyndns2") {
    c.settings = config::Dyndns2Provider{base, "user", Secret(kSecret)};
  } else {
    c.settings = config::PowerdnsProvider{"example.com", base, "localhost", Secret(kSecret)};
  }
  return c;
}

std::optional<providers::Reconciliation> reconcile_once(const config::ProviderConfig& c,
                                                        std::string* error) {
  testing::ProviderHarness h;
  if (!h.make_with([&](providers::ProviderContext context) {
        context.http_timeout = kProviderTimeout;
        return providers::make_provider(c, context);
      })) {
    *error = h.error;
    return std::nullopt;
  }
  return h.reconcile(testing::desired("host.example.com", {"192.0.2.1"}), seconds(5));
}

struct ProviderCase {
  std::string kind;
  std::string mode;
};
void PrintTo(const ProviderCase& c, std::ostream* out) { *out << c.kind << " at " << c.mode; }

class HostileProviderTest : public ::testing::TestWithParam<ProviderCase> {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<HostileHttpServer>(); }
  static void TearDownTestSuite() { server_.reset(); }
  static inline std::unique_ptr<HostileHttpServer> server_;
};

// Each provider, each misbehaviour: failed (rate limited for 429, with the wait it was given),
// within the request timeout, with a message that says what happened and never the secret.
TEST_P(HostileProviderTest, FailsClearlyWithinItsDeadline) {
  const ProviderCase& p = GetParam();
  ASSERT_TRUE(server_->ok());
  std::string error;
  const auto started = std::chrono::steady_clock::now();
  const auto r = reconcile_once(provider_config(p.kind, server_->url(p.mode)), &error);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(r) << error;
  EXPECT_GE(server_->requests(p.mode), 1) << "the provider never asked";
  const bool limited = p.mode.rfind("429", 0) == 0;
  EXPECT_EQ(r->outcome, limited ? providers::Outcome::kRateLimited : providers::Outcome::kFailed)
      << r->message;
  if (limited) {
    ASSERT_TRUE(r->retry_after.has_value()) << r->message;
    EXPECT_GE(*r->retry_after, seconds(110)) << "Retry-After says two minutes";
  }
  EXPECT_FALSE(r->message.empty());
  // PowerDNS reads up to 64 MiB (a whole zone, from versions that ignore the filter): 4 MiB
  // arrive and are no zone, and a body that never ends meets the 64 MiB cap or the timeout,
  // whichever comes first on the machine (under sanitizers 700 ms carry about 64 MiB).
  const bool powerdns = p.kind == "powerdns";
  if (powerdns && p.mode == "huge") {
    EXPECT_THAT(r->message, HasSubstr("not a PowerDNS zone"));
  } else if (powerdns && p.mode == "endless") {
    EXPECT_THAT(r->message, ::testing::AnyOf(HasSubstr("larger than"), HasSubstr("timeout")));
  } else {
    EXPECT_THAT(r->message, HasSubstr(expected_words(p.mode)));
  }
  EXPECT_THAT(r->message, ::testing::Not(HasSubstr(kSecret)));
  EXPECT_TRUE(printable(r->message)) << r->message;
  // Well below the 20 s default: the transfer ends at its timeout (reading 4 MiB into PowerDNS's
  // JSON reader takes a while more under sanitizers).
  EXPECT_LT(took, kProviderTimeout + seconds(3)) << "a transfer never outlives its timeout";
}

std::vector<ProviderCase> provider_cases() {
  std::vector<ProviderCase> cases;
  for (const char* kind : {"cloudflare", "alidns", "dnspod", "dyndns2", "powerdns"}) {
    for (const char* mode : {"html", "half-json", "503", "429-seconds", "429-date", "endless",
                             "trickle", "unfulfilled", "huge", "silent"}) {
      cases.push_back({kind, mode});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Providers, HostileProviderTest, ::testing::ValuesIn(provider_cases()),
                         [](const ::testing::TestParamInfo<ProviderCase>& param_info) {
                           std::string name = param_info.param.kind + "_" + param_info.param.mode;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// --- Certificates that do not verify ---------------------------------------------------------

class HostileCertificateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>();
    pki_ = std::make_unique<testing::Pki>(dir_->path() / "pki");
    ready_ = pki_->make() && pki_->make_bad_servers();
  }
  static void TearDownTestSuite() {
    pki_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_TRUE(ready_) << pki_->log(); }

  // An HTTPS server with the certificate `cert` (from the Pki) that answers kAddress.
  static std::unique_ptr<testing::Receiver> serve(const std::string& cert) {
    testing::ReceiverOptions options;
    options.paths = {"/**"};
    options.tls = exporters::TlsFiles{pki_->at(cert), pki_->at("server.key")};
    auto r = std::make_unique<testing::Receiver>(options);
    r->set_fallback({200, "text/plain", std::string(kAddress) + "\n", {}});
    return r;
  }

  static inline std::unique_ptr<testing::TempDir> dir_;
  static inline std::unique_ptr<testing::Pki> pki_;
  static inline bool ready_ = false;
};

// A provider that trusts the CA still refuses an expired certificate, one for another host and
// a self-signed one, and says it was the certificate.
TEST_F(HostileCertificateTest, ProvidersRefuseCertificatesThatDoNotVerify) {
  for (const char* cert : {"expired.pem", "wrong-host.pem", "self-signed.pem"}) {
    auto server = serve(cert);
    config::ProviderConfig c = provider_config("cloudflare", server->url("/client/v4"));
    c.ca_file = pki_->at("ca.pem");
    std::string error;
    const auto r = reconcile_once(c, &error);
    ASSERT_TRUE(r) << error;
    EXPECT_EQ(r->outcome, providers::Outcome::kFailed) << cert << ": " << r->message;
    EXPECT_THAT(r->message, HasSubstr("tls")) << cert;
    EXPECT_THAT(r->message, ::testing::Not(HasSubstr(kSecret)));
    EXPECT_TRUE(server->requests().empty()) << cert << ": no request may pass a bad handshake";
  }
  // The same server with its good chain is trusted: the failures above are the certificates'.
  auto good = serve("fullchain.pem");
  config::ProviderConfig c = provider_config("cloudflare", good->url("/client/v4"));
  c.ca_file = pki_->at("ca.pem");
  std::string error;
  const auto r = reconcile_once(c, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_THAT(r->message, ::testing::Not(HasSubstr("tls"))) << r->message;
  EXPECT_FALSE(good->requests().empty());
}

// --- IP sources ------------------------------------------------------------------------------

using Detector = testing::DetectorHarness;

const std::vector<std::string> kSourceModes = {"html",     "half-json", "503",     "429-seconds",
                                               "429-date", "endless",   "trickle", "unfulfilled",
                                               "huge",     "silent"};

// Every hostile source fails on its own, in parallel, within the timeout and with its reason;
// the honest one is still trusted. Each failed source rests during the next detection.
TEST(HostileIpSourceTest, EachFailsWithItsReasonAndTheHonestSourceIsTrusted) {
  HostileHttpServer server;
  ASSERT_TRUE(server.ok());
  config::DetectConfig c;
  c.timeout = seconds(1);
  c.allow = {"198.51.100.0/24"};
  std::vector<std::string> sources = {"url:" + server.url("ip")};
  for (const auto& mode : kSourceModes) sources.push_back("url:" + server.url(mode));
  c.ipv4 = config::FamilyDetect{sources, 1};
  Detector detector;
  detector.configure(c);

  const auto started = std::chrono::steady_clock::now();
  const ipdetect::Detection d = detector.run(ipdetect::Family::kIpv4);
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(3)) << "sources run in parallel";
  EXPECT_EQ(d.address, std::optional<std::string>(kAddress)) << d.verdict;
  EXPECT_EQ(d.answered, 1) << d.verdict;
  ASSERT_EQ(d.answers.size(), sources.size());
  for (size_t i = 1; i < d.answers.size(); ++i) {
    const ipdetect::SourceAnswer& a = d.answers[i];
    const std::string& mode = kSourceModes[i - 1];
    EXPECT_FALSE(a.address.has_value()) << mode;
    EXPECT_THAT(a.error, HasSubstr(expected_words(mode))) << mode;
    EXPECT_TRUE(printable(a.error)) << mode << ": " << a.error;
    EXPECT_LT(a.elapsed, milliseconds(1500)) << mode;
  }

  const ipdetect::Detection again = detector.run(ipdetect::Family::kIpv4);
  EXPECT_EQ(again.address, std::optional<std::string>(kAddress)) << again.verdict;
  EXPECT_EQ(server.requests("ip"), 2);
  for (size_t i = 1; i < again.answers.size(); ++i) {
    const std::string& mode = kSourceModes[i - 1];
    EXPECT_TRUE(again.answers[i].skipped) << mode << ": a failed source rests before it is asked "
                                          << "again";
    EXPECT_EQ(server.requests(mode), 1) << mode;
  }
}

// An HTTPS source with a certificate that does not verify fails as a TLS error.
TEST_F(HostileCertificateTest, IpSourcesRefuseCertificatesThatDoNotVerify) {
  auto expired = serve("expired.pem");
  auto wrong_host = serve("wrong-host.pem");
  auto self_signed = serve("self-signed.pem");
  auto good = serve("fullchain.pem");
  config::DetectConfig c;
  c.timeout = seconds(2);
  c.allow = {"198.51.100.0/24"};
  c.ca_file = pki_->at("ca.pem");
  c.ipv4 = config::FamilyDetect{{"url:" + expired->url("/ip"), "url:" + wrong_host->url("/ip"),
                                 "url:" + self_signed->url("/ip"), "url:" + good->url("/ip")},
                                1};
  Detector detector;
  detector.configure(c);
  const ipdetect::Detection d = detector.run(ipdetect::Family::kIpv4);
  ASSERT_EQ(d.answers.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(d.answers[i].address.has_value()) << d.answers[i].source;
    EXPECT_THAT(d.answers[i].error, HasSubstr("tls")) << d.answers[i].source;
  }
  EXPECT_EQ(d.answers[3].address, std::optional<std::string>(kAddress)) << d.answers[3].error;
  EXPECT_EQ(d.address, std::optional<std::string>(kAddress)) << d.verdict;
}

// --- The daemon ------------------------------------------------------------------------------

using nlohmann::json;

// The daemon with hostile IP sources beside an honest one and a record at each HTTP provider,
// each provider's API misbehaving its own way: each source and provider is counted as failed
// (rate limited for 429), asked once and then left alone for its backoff, the log names them
// without the secret, and the daemon goes on serving.
TEST(HostileHttpDaemonTest, CountsEachFailureAndRunsOn) {
  HostileHttpServer server;
  ASSERT_TRUE(server.ok());
  testing::TempDir dir;
  const uint16_t port = testing::free_port();
  const std::vector<std::string> source_modes = {"html", "endless", "huge", "unfulfilled",
                                                 "429-date"};
  json sources = json::array({"url:" + server.url("ip")});
  for (const auto& mode : source_modes) sources.push_back("url:" + server.url(mode));
  // provider kind -> the misbehaviour of its API
  const std::map<std::string, std::string> providers = {{"cloudflare", "endless"},
                                                        {"alidns", "503"},
                                                        {"dnspod", "half-json"},
                                                        {"dyndns2", "html"},
                                                        {"powerdns", "429-seconds"}};
  json records = json::array();
  for (const auto& [kind, mode] : providers) {
    json provider = {{"kind", kind}};
    if (kind == "cloudflare") {
      provider.update(
          {{"zone", "example.com"}, {"token", kSecret}, {"endpoint", server.url(mode)}});
    } else if (kind == "alidns") {
      provider.update({{"zone", "example.com"},
                       {"access_key_id", "LTAI5tHostileKeyId"},
                       {"access_key_secret", kSecret},
                       {"endpoint", server.url(mode)}});
    } else if (kind == "dnspod") {
      provider.update({{"zone", "example.com"},
                       {"secret_id", "AKIDHostileSecretId"},
                       {"secret_key", kSecret},
                       {"endpoint", server.url(mode)}});
    } else if (kind == "dyndns2") {
      provider.update({{"server", server.url(mode)}, {"username", "user"}, {"password", kSecret}});
    } else {
      provider.update({{"zone", "example.com"}, {"url", server.url(mode)}, {"api_key", kSecret}});
    }
    records.push_back({{"name", kind + ".example.com"}, {"type", "A"}, {"provider", provider}});
  }
  const json cfg = {{"listen", "127.0.0.1:" + std::to_string(port)},
                    {"state_dir", (dir.path() / "state").string()},
                    {"detect",
                     {{"interval", "10s"},
                      {"timeout", "1s"},
                      {"allow", {"198.51.100.0/24"}},
                      {"ipv4", {{"sources", sources}, {"quorum", 1}}}}},
                    {"records", records}};
  const auto config_path = dir.write("ddnswatch.json", cfg.dump(2));
  testing::Process daemon({DDNSWATCH_BINARY, "run", "--config", config_path.string()}, dir.path());
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  auto value = [](const std::string& m, const std::string& metric,
                  const std::map<std::string, std::string>& labels) {
    return testing::metric_value(m, metric, labels).value_or(-1);
  };
  std::string m;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        m = testing::http_get(base + "/metrics").body;
        for (const auto& [kind, mode] : providers) {
          const char* outcome = mode.rfind("429", 0) == 0 ? "rate_limited" : "failed";
          if (value(m, "ddnswatch_record_updates_total",
                    {{"provider", kind}, {"outcome", outcome}}) < 1) {
            return false;
          }
        }
        return true;
      },
      seconds(15)))
      << m << daemon.err();
  EXPECT_EQ(value(m, "ddnswatch_ip_source_up", {{"source", "url:" + server.url("ip")}}), 1);
  for (const auto& mode : source_modes) {
    EXPECT_EQ(value(m, "ddnswatch_ip_source_up", {{"source", "url:" + server.url(mode)}}), 0)
        << mode;
  }
  EXPECT_EQ(value(m, "ddnswatch_public_ip_info", {{"address", kAddress}}), 1);
  for (const auto& [kind, mode] : providers) {
    EXPECT_EQ(value(m, "ddnswatch_record_in_sync", {{"record", kind + ".example.com/A"}}), 0)
        << kind;
  }

  // Retried politely: within the next two seconds no provider is asked again.
  std::map<std::string, int> asked;
  for (const auto& [kind, mode] : providers) asked[mode] = server.requests(mode);
  EXPECT_FALSE(testing::wait_until(
      [&] {
        for (const auto& [mode, n] : asked) {
          if (server.requests(mode) != n) return true;
        }
        return false;
      },
      seconds(2)))
      << "a failing provider is not asked again at once";
  EXPECT_TRUE(daemon.running());
  EXPECT_EQ(testing::http_get(base + "/healthz").status, 200);

  const std::string log = daemon.err();
  for (const auto& [kind, mode] : providers) {
    EXPECT_THAT(log, HasSubstr(kind + ".example.com/A: update at " + kind)) << log;
  }
  for (const auto& mode : source_modes) {
    EXPECT_THAT(log, HasSubstr("detect ipv4: source url:" + server.url(mode) + " failed: "));
  }
  EXPECT_THAT(log, HasSubstr("failed: too_large: the response is larger than"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr(kSecret)));
  EXPECT_TRUE(printable(log)) << log;
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(seconds(10)), std::optional<int>(0)) << daemon.err();
}

}  // namespace
}  // namespace ddnswatch
