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
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() / "tls");
    ASSERT_TRUE(make_pki("tls/", "ca")) << openssl_log_;
  }

  // Runs the openssl command line; false (with the output in openssl_log_) if it fails.
  bool openssl(std::vector<std::string> args) {
    static const std::filesystem::path program = testing::find_program("openssl");
    if (program.empty()) {
      openssl_log_ += "openssl is not on $PATH: scripts/install-deps.sh installs it\n";
      return false;
    }
    args.insert(args.begin(), program.string());
    auto r = testing::run_command(args, dir_.path(), seconds(30));
    if (r.code != 0) openssl_log_ += r.out + r.err;
    return r.code == 0;
  }

  // The absolute path of `name` in dir_: child processes do not start in dir_.
  std::string at(const std::string& name) const { return (dir_.path() / name).string(); }

  // A P-256 key at `name`.
  bool make_key(const std::string& name) {
    return openssl(
        {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", at(name)});
  }

  // Under `prefix`: NAME.pem (a root CA), intermediate.pem, server.key and fullchain.pem (the
  // server certificate for IP 127.0.0.1, then the intermediate that signed it).
  bool make_pki(const std::string& prefix, const std::string& name) {
    const std::string p = at(prefix);
    dir_.write(p + "ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n");
    dir_.write(p + "server.ext",
               "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n"
               "extendedKeyUsage=serverAuth\n");
    return make_key(p + name + ".key") &&
           openssl({"req", "-x509", "-new", "-key", p + name + ".key", "-subj",
                    "/CN=ddnswatch test " + name, "-days", "2", "-out", p + name + ".pem"}) &&
           make_key(p + "intermediate.key") &&
           openssl({"req", "-new", "-key", p + "intermediate.key", "-subj",
                    "/CN=ddnswatch test intermediate", "-out", p + "intermediate.csr"}) &&
           openssl({"x509", "-req", "-in", p + "intermediate.csr", "-CA", p + name + ".pem",
                    "-CAkey", p + name + ".key", "-CAcreateserial", "-days", "2", "-extfile",
                    p + "ca.ext", "-out", p + "intermediate.pem"}) &&
           make_key(p + "server.key") &&
           openssl({"req", "-new", "-key", p + "server.key", "-subj", "/CN=127.0.0.1", "-out",
                    p + "server.csr"}) &&
           openssl({"x509", "-req", "-in", p + "server.csr", "-CA", p + "intermediate.pem",
                    "-CAkey", p + "intermediate.key", "-CAcreateserial", "-days", "2", "-extfile",
                    p + "server.ext", "-out", p + "server.pem"}) &&
           concatenate({p + "server.pem", p + "intermediate.pem"}, p + "fullchain.pem");
  }

  bool concatenate(const std::vector<std::string>& parts, const std::string& target) {
    std::string all;
    for (const auto& part : parts) {
      auto text = read_file(dir_.path() / part);
      if (!text) return false;
      all += *text;
    }
    dir_.write(target, all);
    return true;
  }

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
  std::string openssl_log_;
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
  ASSERT_TRUE(make_key("tls/other.key")) << openssl_log_;
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
  ASSERT_TRUE(openssl({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                       at("tls/rsa.key")}))
      << openssl_log_;
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

  ASSERT_TRUE(make_key("tls/other.key")) << openssl_log_;
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
  ASSERT_TRUE(make_pki("renewed/", "ca2")) << openssl_log_;
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
