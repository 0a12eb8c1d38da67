// HTTPS on the endpoint as an operator sets it up: a CA, an intermediate and a server
// certificate for 127.0.0.1 are made at run time with the openssl command line; the daemon
// serves the chain and key from two files (as certbot writes them) and a client that trusts
// only the root CA scrapes /metrics. A wrong key stops `check` and `run` with a message
// that names the file; a reload with a wrong key keeps the old server, one with a renewed
// certificate serves it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "support/http_get.h"
#include "support/lab.h"
#include "support/pki.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.make("tls/", "ca")) << pki_.log(); }

  // A config that serves HTTPS with the two files, given relative to the config's folder.
  std::string config(const std::string& cert_file, const std::string& key_file) const {
    return nlohmann::json{{"listen", "127.0.0.1:" + std::to_string(port_)},
                          {"state_dir", (dir_.path() / "state").string()},
                          {"web", {{"tls", {{"cert_file", cert_file}, {"key_file", key_file}}}}}}
        .dump(2);
  }

  std::string url(const std::string& scheme, const std::string& path) const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }

  testing::HttpResult https_get(const std::string& path, const std::string& ca = "tls/ca.pem") {
    return testing::http_get(url("https", path), seconds(5), false, "",
                             (dir_.path() / ca).string());
  }

  std::unique_ptr<testing::Process> start() {
    auto p = std::make_unique<testing::Process>(
        std::vector<std::string>{DDNSWATCH_BINARY, "run", "--config", config_.string()},
        dir_.path());
    EXPECT_TRUE(
        testing::wait_until([&] { return https_get("/healthz").status == 200; }, seconds(10)))
        << "daemon did not come up over HTTPS; stderr:\n"
        << p->err();
    return p;
  }

  testing::TempDir dir_;
  uint16_t port_ = testing::free_port();
  std::filesystem::path config_;
  testing::Pki pki_{dir_.path()};
};

TEST_F(TlsTest, ServesMetricsOverHttpsWithTheChainAndRefusesPlainHttp) {
  config_ = dir_.write("ddnswatch.json", config("tls/fullchain.pem", "tls/server.key"));
  auto daemon = start();

  // The client trusts only the root, so the server must have sent the intermediate too.
  auto r = https_get("/metrics");
  ASSERT_EQ(r.status, 200) << r.error << "\n" << daemon->err();
  EXPECT_THAT(r.body, HasSubstr("ddnswatch_build_info{"));
  EXPECT_THAT(daemon->err(), HasSubstr("on https://127.0.0.1:" + std::to_string(port_)));

  auto untrusted = testing::http_get(url("https", "/metrics"), seconds(5));
  EXPECT_EQ(untrusted.status, 0) << "the system store does not know the test CA";

  auto plain = testing::http_get(url("http", "/metrics"), seconds(3));
  EXPECT_EQ(plain.status, 0) << "plain HTTP on the HTTPS port must get no answer";
  EXPECT_NE(plain.error, "");

  daemon->signal(SIGTERM);
  auto status = daemon->wait(seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  EXPECT_THAT(daemon->err(), Not(HasSubstr("PRIVATE KEY")));
}

TEST_F(TlsTest, AWrongKeyFailsCheckAndRunWithAClearMessage) {
  ASSERT_TRUE(pki_.make_key("tls/other.key")) << pki_.log();
  config_ = dir_.write("ddnswatch.json", config("tls/fullchain.pem", "tls/other.key"));
  const std::string key = (dir_.path() / "tls/other.key").string();
  const std::string cert = (dir_.path() / "tls/fullchain.pem").string();

  auto check =
      testing::run_command({DDNSWATCH_BINARY, "check", "--config", config_.string()}, dir_.path());
  EXPECT_EQ(check.code, 1);
  EXPECT_THAT(check.err,
              HasSubstr("/web/tls: TLS key " + key + " does not match the certificate " + cert));

  auto run = testing::run_command({DDNSWATCH_BINARY, "run", "--config", config_.string()},
                                  dir_.path(), seconds(10));
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.err, HasSubstr("TLS key " + key + " does not match the certificate"));
  EXPECT_THAT(run.err, HasSubstr("not starting"));
  EXPECT_THAT(check.err + run.err, Not(HasSubstr("PRIVATE KEY")));

  // A key of another type (RSA for an EC certificate) is caught as well.
  ASSERT_TRUE(pki_.openssl({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                            "-out", pki_.at("tls/rsa.key")}))
      << pki_.log();
  dir_.write("ddnswatch.json", config("tls/fullchain.pem", "tls/rsa.key"));
  auto rsa =
      testing::run_command({DDNSWATCH_BINARY, "check", "--config", config_.string()}, dir_.path());
  EXPECT_EQ(rsa.code, 1);
  EXPECT_THAT(rsa.err, HasSubstr("does not match the certificate"));
}

TEST_F(TlsTest, AFileThatIsNotACertificateIsNamedWithOpenSslsReason) {
  config_ = dir_.write("ddnswatch.json", config("tls/server.key", "tls/server.key"));
  auto check =
      testing::run_command({DDNSWATCH_BINARY, "check", "--config", config_.string()}, dir_.path());
  EXPECT_EQ(check.code, 1);
  EXPECT_THAT(check.err, HasSubstr("/web/tls: cannot load TLS certificate " +
                                   (dir_.path() / "tls/server.key").string() + ": "));
  EXPECT_THAT(check.err, Not(HasSubstr("PRIVATE KEY")));
}

TEST_F(TlsTest, WithoutTheCompatLibraryHttpsFailsToStartAndSaysWhy) {
  // A binary copied away from libddnswatch-civetweb-tls.so, as a careless install would.
  const auto alone = dir_.path() / "bin" / "ddnswatch";
  std::filesystem::create_directories(alone.parent_path());
  std::filesystem::copy_file(DDNSWATCH_BINARY, alone);
  config_ = dir_.write("ddnswatch.json", config("tls/fullchain.pem", "tls/server.key"));
  auto run = testing::run_command({alone.string(), "run", "--config", config_.string()},
                                  dir_.path(), seconds(10));
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.err, HasSubstr("cannot serve HTTPS on 127.0.0.1:" + std::to_string(port_) +
                                 ": civetweb could not load OpenSSL"));
  EXPECT_THAT(run.err, HasSubstr("libddnswatch-civetweb-tls.so"));
}

TEST_F(TlsTest, ReloadKeepsTheServerOnAWrongKeyAndServesARenewedCertificate) {
  config_ = dir_.write("ddnswatch.json", config("tls/fullchain.pem", "tls/server.key"));
  auto daemon = start();

  ASSERT_TRUE(pki_.make_key("tls/other.key")) << pki_.log();
  ASSERT_TRUE(write_file_atomically(config_, config("tls/fullchain.pem", "tls/other.key")));
  daemon->signal(SIGHUP);
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return daemon->err().find("the previous configuration stays in effect") !=
               std::string::npos;
      },
      seconds(5)))
      << daemon->err();
  EXPECT_THAT(daemon->err(), HasSubstr("does not match the certificate"));
  EXPECT_EQ(https_get("/healthz").status, 200) << "the old server keeps serving";

  // certbot renews in place: same paths, a certificate from another CA now.
  std::filesystem::create_directories(dir_.path() / "renewed");
  ASSERT_TRUE(pki_.make("renewed/", "ca2")) << pki_.log();
  for (const char* file : {"fullchain.pem", "server.key"}) {
    std::filesystem::copy_file(dir_.path() / "renewed" / file, dir_.path() / "tls" / file,
                               std::filesystem::copy_options::overwrite_existing);
  }
  ASSERT_TRUE(write_file_atomically(config_, config("tls/fullchain.pem", "tls/server.key")));
  daemon->signal(SIGHUP);
  EXPECT_TRUE(testing::wait_until(
      [&] { return https_get("/healthz", "renewed/ca2.pem").status == 200; }, seconds(5)))
      << daemon->err();
  EXPECT_EQ(https_get("/healthz", "tls/ca.pem").status, 0) << "the old certificate is gone";
}

}  // namespace
}  // namespace ddnswatch
