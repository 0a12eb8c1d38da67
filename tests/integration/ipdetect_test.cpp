// IP detection against real servers on loopback: local HTTP echo services that agree,
// disagree, lie (a bogon, an HTML page with 200, the other family, two addresses), stall and
// rate-limit; an HTTPS echo trusted through detect.ca_file; DNS echoes in the lab (A, AAAA,
// TXT, and TXT in class CH like whoami.cloudflare). Then `ddnswatch detect` as a person runs
// it: the table, the verdict line, the JSON and the exit codes. No test leaves loopback.
#include <curl/curl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "exporters/http_server.h"
#include "ipdetect/ip_detector.h"
#include "support/detector_harness.h"
#include "support/http_get.h"
#include "support/lab_fixture.h"
#include "support/loop_runner.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch::ipdetect {
namespace {

using exporters::HttpResponse;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const char* const kAddress = "198.51.100.7";  // what the honest fakes and the lab answer

/// HTTP echo services with a fixed behaviour per path, on 127.0.0.1 at a run-time port.
/// Handlers run on the server's threads.
class EchoFakes {
 public:
  EchoFakes() {
    auto text = [](std::string body) {
      return HttpResponse{200, "text/plain", std::move(body), {}};
    };
    answers_["/a"] = text(std::string(kAddress) + "\n");
    answers_["/b"] = text(kAddress);
    answers_["/other"] = text("198.51.100.8\n");
    answers_["/json"] = HttpResponse{200, "application/json", R"({"ip":"198.51.100.7"})", {}};
    answers_["/cdn-cgi/trace"] = text("fl=1\nh=127.0.0.1\nip=198.51.100.7\nts=1\nloc=DE\n");
    answers_["/private"] = text("10.1.2.3\n");
    answers_["/html"] = HttpResponse{
        200,
        "text/html",
        "<!DOCTYPE html><html><head><title>Gateway error</title></head><body>Try again "
        "later. Your address: 198.51.100.7</body></html>",
        {}};
    answers_["/v6"] = text("2001:db8::7\n");
    answers_["/two"] = text("198.51.100.7\n198.51.100.8\n");
    answers_["/limited"] = HttpResponse{429, "text/plain", "slow down\n", {{"Retry-After", "600"}}};
    answers_["/limited-bare"] = HttpResponse{429, "text/plain", "slow down\n", {}};
    answers_["/broken"] = HttpResponse{503, "text/plain", "maintenance\n", {}};
    std::map<std::string, exporters::HttpHandler> routes;
    for (const auto& [path, response] : answers_) {
      routes[path] = [this, path = path](const exporters::HttpRequest&) {
        std::lock_guard lock(mutex_);
        ++hits_[path];
        return answers_.at(path);
      };
    }
    routes["/stall"] = [this](const exporters::HttpRequest&) {
      std::unique_lock lock(mutex_);
      ++hits_["/stall"];
      // Far longer than any detection's timeout; released when the test ends.
      released_.wait_for(lock, seconds(20), [&] { return release_; });
      return HttpResponse{200, "text/plain", kAddress, {}};
    };
    exporters::HttpServerOptions options;
    options.port = 0;
    options.threads = 8;
    auto server = exporters::HttpServer::start(options, std::move(routes));
    if (!server) throw std::runtime_error("echo fakes: " + server.error().message);
    server_ = std::move(*server);
  }
  ~EchoFakes() {
    {
      std::lock_guard lock(mutex_);
      release_ = true;
    }
    released_.notify_all();
    server_.reset();
  }

  std::string url(const std::string& path) const {
    return fmt::format("http://127.0.0.1:{}{}", server_->port(), path);
  }
  std::string source(const std::string& path) const { return "url:" + url(path); }
  int hits(const std::string& path) const {
    std::lock_guard lock(mutex_);
    auto it = hits_.find(path);
    return it == hits_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, HttpResponse> answers_;  // read-only once serving
  mutable std::mutex mutex_;
  std::condition_variable released_;
  bool release_ = false;
  std::map<std::string, int> hits_;
  std::unique_ptr<exporters::HttpServer> server_;
};

using Detector = testing::DetectorHarness;

config::DetectConfig ipv4(std::vector<std::string> sources, int quorum,
                          std::vector<std::string> allow = {"198.51.100.0/24"}) {
  config::DetectConfig c;
  c.timeout = seconds(2);
  c.allow = std::move(allow);
  c.ipv4 = config::FamilyDetect{std::move(sources), quorum};
  return c;
}

// curl, initialised once for the process as main() does.
class LibraryEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { curl_global_init(CURL_GLOBAL_DEFAULT); }
  void TearDown() override { curl_global_cleanup(); }
};
[[maybe_unused]] const auto* const kLibraries =
    ::testing::AddGlobalTestEnvironment(new LibraryEnvironment);

// --- HTTP echoes ---

TEST(IpDetectHttpTest, SourcesThatAgreeAreTrusted) {
  EchoFakes fakes;
  Detector d;
  d.configure(ipv4({fakes.source("/a"), fakes.source("/json"), fakes.source("/cdn-cgi/trace")}, 2));
  Detection r = d.run(Family::kIpv4);
  EXPECT_EQ(r.address, kAddress);
  EXPECT_EQ(r.agreeing, 3);
  EXPECT_EQ(r.verdict, "ipv4: 198.51.100.7 (3 of 3 sources agree, quorum 2)");
  for (const auto& a : r.answers) EXPECT_EQ(a.address, kAddress) << a.source << ": " << a.error;
  EXPECT_EQ(fakes.hits("/a") + fakes.hits("/json") + fakes.hits("/cdn-cgi/trace"), 3);
}

TEST(IpDetectHttpTest, SourcesThatDisagreeAreNotTrusted) {
  EchoFakes fakes;
  Detector d;
  d.configure(ipv4({fakes.source("/a"), fakes.source("/other"), fakes.source("/b")}, 3));
  Detection r = d.run(Family::kIpv4);
  EXPECT_EQ(r.address, std::nullopt);
  EXPECT_EQ(r.answered, 3);
  EXPECT_EQ(r.verdict,
            "ipv4: no address trusted: 2 sources say 198.51.100.7, 1 says 198.51.100.8, quorum 3");

  // The same answers with a quorum of 2: the majority is trusted, the dissent is named.
  d.configure(ipv4({fakes.source("/a"), fakes.source("/other"), fakes.source("/b")}, 2));
  EXPECT_EQ(d.run(Family::kIpv4).verdict,
            "ipv4: 198.51.100.7 (2 of 3 sources agree, quorum 2; 1 says 198.51.100.8)");
}

TEST(IpDetectHttpTest, LyingSourcesAreRefusedAndTheHonestOneStillCounts) {
  EchoFakes fakes;
  Detector d;
  d.configure(ipv4({fakes.source("/private"), fakes.source("/html"), fakes.source("/v6"),
                    fakes.source("/two"), fakes.source("/broken"), fakes.source("/a")},
                   1));
  Detection r = d.run(Family::kIpv4);
  EXPECT_EQ(r.address, kAddress);
  ASSERT_EQ(r.answers.size(), 6u);
  EXPECT_EQ(r.answers[0].error,
            "10.1.2.3 is not a public address: 10.0.0.0/8 is a private range (RFC 1918), "
            "backing off 30s");
  EXPECT_EQ(r.answers[1].error, "answer is not an IP address (an HTML page?), backing off 30s");
  EXPECT_EQ(r.answers[2].error,
            "answer is an IPv6 address (2001:db8::7), not IPv4, backing off 30s");
  EXPECT_EQ(r.answers[3].error, "answer holds 2 addresses, not one, backing off 30s");
  EXPECT_EQ(r.answers[4].error, "HTTP 503, backing off 30s");
  EXPECT_EQ(r.answers[5].address, kAddress);
  EXPECT_EQ(r.verdict, "ipv4: 198.51.100.7 (1 of 6 sources agrees, quorum 1; 5 failed)");

  // Without the lab's allow list, documentation addresses are bogons too: nothing is trusted.
  d.configure(ipv4({fakes.source("/a")}, 1, {}));
  Detection strict = d.run(Family::kIpv4);
  EXPECT_EQ(strict.address, std::nullopt);
  EXPECT_EQ(strict.answers[0].error,
            "198.51.100.7 is not a public address: 198.51.100.0/24 is a documentation range (RFC "
            "5737), backing off 30s");
}

TEST(IpDetectHttpTest, AStalledSourceTimesOutWhileTheOthersAnswer) {
  EchoFakes fakes;
  Detector d;
  config::DetectConfig c =
      ipv4({fakes.source("/stall"), fakes.source("/a"), fakes.source("/b")}, 2);
  c.timeout = seconds(1);
  d.configure(c);
  const auto started = std::chrono::steady_clock::now();
  Detection r = d.run(Family::kIpv4, seconds(10));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.address, kAddress);
  EXPECT_EQ(r.verdict, "ipv4: 198.51.100.7 (2 of 3 sources agree, quorum 2; 1 failed)");
  EXPECT_THAT(r.answers[0].error, StartsWith("timeout: "));
  EXPECT_GE(r.answers[0].elapsed, milliseconds(900));
  EXPECT_LT(took, seconds(5)) << "the detection waits for the source's timeout, not longer";
  EXPECT_EQ(fakes.hits("/stall"), 1);
}

TEST(IpDetectHttpTest, ARateLimitedSourceIsSkippedOnTheNextDetection) {
  EchoFakes fakes;
  Detector d;
  d.configure(
      ipv4({fakes.source("/limited"), fakes.source("/limited-bare"), fakes.source("/a")}, 1));
  Detection first = d.run(Family::kIpv4);
  EXPECT_EQ(first.address, kAddress);
  EXPECT_EQ(first.answers[0].error, "HTTP 429 (Retry-After 10m), backing off 10m");
  EXPECT_EQ(first.answers[1].error, "HTTP 429, backing off 5m");
  EXPECT_FALSE(first.answers[0].skipped);

  Detection second = d.run(Family::kIpv4);
  EXPECT_EQ(second.address, kAddress);
  EXPECT_TRUE(second.answers[0].skipped);
  EXPECT_THAT(
      second.answers[0].error,
      ContainsRegex("^backing off for (9m[0-9]+s|10m) more: HTTP 429 \\(Retry-After 10m\\)$"));
  EXPECT_TRUE(second.answers[1].skipped);
  EXPECT_THAT(second.answers[1].error, HasSubstr("more: HTTP 429"));
  EXPECT_FALSE(second.answers[2].skipped);
  EXPECT_EQ(second.verdict, "ipv4: 198.51.100.7 (1 of 3 sources agrees, quorum 1; 2 skipped)");
  EXPECT_EQ(fakes.hits("/limited"), 1) << "the rate-limited service was not asked again";
  EXPECT_EQ(fakes.hits("/limited-bare"), 1);
  EXPECT_EQ(fakes.hits("/a"), 2);
}

// HTTPS with a private CA named by detect.ca_file (openssl s_server serves the answer as a
// file); without it the certificate is refused.
TEST(IpDetectHttpTest, HttpsEchoesAreVerifiedAgainstTheConfiguredCa) {
  testing::TempDir dir;
  const std::filesystem::path openssl = testing::find_program("openssl");
  ASSERT_FALSE(openssl.empty()) << "openssl is not on $PATH: scripts/install-deps.sh installs it";
  const std::string cert = (dir.path() / "cert.pem").string();
  const std::string key = (dir.path() / "key.pem").string();
  auto made = testing::run_command(
      {openssl.string(), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
       "subjectAltName=IP:127.0.0.1"},
      dir.path(), seconds(30));
  ASSERT_EQ(made.code, 0) << made.out << made.err;
  std::filesystem::create_directory(dir.path() / "www");
  dir.write("www/ip", std::string(kAddress) + "\n");
  const uint16_t port = testing::free_port();
  // s_server -WWW serves files from its working folder; exec keeps the PID the Process owns.
  testing::Process server(
      {"/bin/sh", "-c",
       fmt::format("cd '{}' && exec '{}' s_server -quiet -WWW -accept 127.0.0.1:{} -cert '{}' "
                   "-key '{}'",
                   (dir.path() / "www").string(), openssl.string(), port, cert, key)},
      dir.path());
  const std::string url = fmt::format("https://127.0.0.1:{}/ip", port);
  ASSERT_TRUE(testing::wait_until(
      [&] { return testing::http_get(url, seconds(1), false, "", cert).body == "198.51.100.7\n"; },
      seconds(10)))
      << server.err();

  Detector d;
  config::DetectConfig c = ipv4({"url:" + url}, 1);
  c.ca_file = cert;
  d.configure(c);
  Detection trusted = d.run(Family::kIpv4);
  EXPECT_EQ(trusted.address, kAddress) << trusted.answers[0].error;

  c.ca_file.reset();
  Detector strict;
  strict.configure(c);
  Detection refused = strict.run(Family::kIpv4);
  EXPECT_EQ(refused.address, std::nullopt);
  EXPECT_THAT(refused.answers[0].error, StartsWith("tls: "));
}

// --- DNS echoes in the lab ---

class IpDetectDnsTest : public testing::LabFixture {
 protected:
  std::string auth(const std::string& name, const std::string& options = "") const {
    return fmt::format("dns:{}@127.0.0.1:{}{}", name, lab_->auth_port(), options);
  }
  std::string cache(const std::string& name, const std::string& options = "") const {
    return fmt::format("dns:{}@{}{}", name, lab_->endpoint("fast"), options);
  }
};

TEST_F(IpDetectDnsTest, DnsEchoesAnswerWithAddressRecordsOrTxt) {
  Detector d;
  config::DetectConfig c = ipv4({auth("myip.ddnswatch.test"), auth("myip.ddnswatch.test", "/TXT"),
                                 cache("whoami.cloudflare", "/TXT/CH")},
                                3, {"198.51.100.0/24", "2001:db8::/32"});
  c.ipv6 = config::FamilyDetect{{auth("myip.ddnswatch.test")}, 1};
  d.configure(c);
  Detection v4 = d.run(Family::kIpv4);
  for (const auto& a : v4.answers) EXPECT_EQ(a.address, kAddress) << a.source << ": " << a.error;
  EXPECT_EQ(v4.verdict, "ipv4: 198.51.100.7 (3 of 3 sources agree, quorum 3)");
  Detection v6 = d.run(Family::kIpv6);
  EXPECT_EQ(v6.address, "2001:db8::7") << v6.verdict;
}

TEST_F(IpDetectDnsTest, DnsAnswersThatAreNotAnAddressAreErrors) {
  Detector d;
  d.configure(ipv4(
      {auth("txt.ddnswatch.test", "/TXT"), auth("nope.ddnswatch.test"),
       auth("fixed.ddnswatch.test"), cache("version.server", "/TXT/CH"),
       fmt::format("dns:myip.ddnswatch.test@{}:{}", lab_->get("LAB_DEAD"), lab_->cache_port())},
      1));
  Detection r = d.run(Family::kIpv4);
  EXPECT_EQ(r.address, std::nullopt);
  ASSERT_EQ(r.answers.size(), 5u);
  EXPECT_EQ(r.answers[0].error, "answer is not an IP address: \"hello\", backing off 30s");
  EXPECT_EQ(r.answers[1].error, "the name does not exist (NXDOMAIN), backing off 30s");
  EXPECT_EQ(r.answers[2].error,
            "192.0.2.10 is not a public address: 192.0.2.0/24 is a documentation range (RFC "
            "5737), backing off 30s");
  EXPECT_THAT(r.answers[3].error, StartsWith("answer is not an IP address: \"unbound"));
  EXPECT_THAT(r.answers[4].error, ContainsRegex("^(timeout|network error: ).*, backing off 30s$"));
  EXPECT_EQ(r.verdict, "ipv4: no address trusted: no source gave an address (5 failed)");
}

// --- ddnswatch detect ---

class DetectCliTest : public ::testing::Test {
 protected:
  testing::RunResult detect(const json& detect_section, std::vector<std::string> args = {}) {
    const auto config = dir_.write("ddnswatch.json", json{{"detect", detect_section}}.dump(2));
    std::vector<std::string> argv = {DDNSWATCH_BINARY, "detect", "--config", config.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_command(argv, dir_.path(), seconds(30));
  }

  // The table line of a source.
  static std::string line_of(const std::string& out, const std::string& source) {
    size_t pos = out.find("\n" + source + " ");
    if (pos == std::string::npos) return "";
    size_t end = out.find('\n', pos + 1);
    return out.substr(pos + 1, end - pos - 1);
  }

  EchoFakes fakes_;
  testing::TempDir dir_;
};

TEST_F(DetectCliTest, PrintsEverySourceAndTheVerdict) {
  auto r =
      detect({{"timeout", "2s"},
              {"allow", {"198.51.100.0/24", "2001:db8::/32"}},
              {"ipv4",
               {{"sources", {fakes_.source("/a"), fakes_.source("/json"), fakes_.source("/html")}},
                {"quorum", 2}}},
              {"ipv6", {{"sources", {"static:2001:db8::7"}}}}});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("SOURCE"));
  EXPECT_THAT(r.out, ContainsRegex("^SOURCE +FAMILY +TIME +ANSWER\n"));
  EXPECT_THAT(
      line_of(r.out, fakes_.source("/a")),
      ContainsRegex("^url:http://127\\.0\\.0\\.1:[0-9]+/a +ipv4 +[0-9]+ ms +198\\.51\\.100\\.7$"));
  EXPECT_THAT(line_of(r.out, fakes_.source("/html")),
              ContainsRegex("ipv4 +[0-9]+ ms +error: answer is not an IP address \\(an HTML "
                            "page\\?\\), backing off [0-9]+s$"));
  EXPECT_THAT(line_of(r.out, "static:2001:db8::7"),
              ContainsRegex("^static:2001:db8::7 +ipv6 +[0-9]+ ms +2001:db8::7$"));
  EXPECT_THAT(r.out, HasSubstr("\nipv4: 198.51.100.7 (2 of 3 sources agree, quorum 2; 1 failed)\n"
                               "ipv6: 2001:db8::7 (1 of 1 source agrees, quorum 1)\n"));
}

TEST_F(DetectCliTest, ExitsOneWhenAFamilyHasNoTrustedAddress) {
  const json section = {
      {"timeout", "2s"},
      {"allow", {"198.51.100.0/24"}},
      {"ipv4", {{"sources", {fakes_.source("/a"), fakes_.source("/other")}}, {"quorum", 1}}},
      {"ipv6", {{"sources", {"static:2606:4700:4700::1111"}}}}};
  auto r = detect(section);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("ipv4: no address trusted: 1 source says 198.51.100.7, 1 says "
                               "198.51.100.8 (a tie), quorum 1\n"));
  EXPECT_THAT(r.out, HasSubstr("ipv6: 2606:4700:4700::1111 (1 of 1 source agrees, quorum 1)\n"));
  // One family alone decides the exit code.
  auto v6 = detect(section, {"--family", "ipv6"});
  EXPECT_EQ(v6.code, 0) << v6.out << v6.err;
  EXPECT_THAT(v6.out, Not(HasSubstr("ipv4")));
}

TEST_F(DetectCliTest, JsonHasTheSameContent) {
  auto r = detect({{"timeout", "2s"},
                   {"allow", {"198.51.100.0/24"}},
                   {"ipv4", {{"sources", {fakes_.source("/a"), fakes_.source("/private")}}}}},
                  {"--json"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  json doc = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << r.out;
  EXPECT_EQ(doc["all_trusted"], true);
  ASSERT_EQ(doc["families"].size(), 1u);
  const json& f = doc["families"][0];
  EXPECT_EQ(f["family"], "ipv4");
  EXPECT_EQ(f["address"], kAddress);
  EXPECT_EQ(f["agreeing"], 1);
  EXPECT_EQ(f["quorum"], 1);
  EXPECT_EQ(f["verdict"], "ipv4: 198.51.100.7 (1 of 2 sources agrees, quorum 1; 1 failed)");
  ASSERT_EQ(f["sources"].size(), 2u);
  EXPECT_EQ(f["sources"][0]["source"], fakes_.source("/a"));
  EXPECT_EQ(f["sources"][0]["address"], kAddress);
  EXPECT_TRUE(f["sources"][0]["error"].is_null());
  EXPECT_TRUE(f["sources"][0]["elapsed_ms"].is_number());
  EXPECT_TRUE(f["sources"][1]["address"].is_null());
  EXPECT_THAT(f["sources"][1]["error"].get<std::string>(),
              HasSubstr("10.0.0.0/8 is a private range"));
}

TEST_F(DetectCliTest, UsageAndConfigErrors) {
  const json v4_only = {{"ipv4", {{"sources", {"static:9.9.9.9"}}}}};
  auto missing = detect(v4_only, {"--family", "ipv6"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("has no detect.ipv6 sources"));
  EXPECT_EQ(detect(v4_only, {"--family", "ipv5"}).code, 2);
  auto bad = detect({{"ipv4", {{"sources", {"dns:myip.example"}}}}});
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("/detect/ipv4/sources/0: \"dns:myip.example\" names no server"));
  auto none = detect(json::object());
  EXPECT_EQ(none.code, 1);
  EXPECT_THAT(none.err, HasSubstr("has neither detect.ipv4 nor detect.ipv6 sources"));
}

}  // namespace
}  // namespace ddnswatch::ipdetect
