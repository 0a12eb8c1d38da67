// The providers that talk to authoritative servers, against real ones on loopback: RFC 2136
// at the lab's BIND 9 (hmac-sha256) and at a PowerDNS Authoritative started here with the
// gsqlite3 backend (hmac-sha256 and hmac-sha512 keys), and the PowerDNS HTTP API at that same
// PowerDNS. What the servers hold afterwards is checked with dig, an independent client.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/event_loop.h"
#include "net/http_client.h"
#include "providers/powerdns.h"
#include "providers/provider.h"
#include "providers/rfc2136.h"
#include "support/lab_fixture.h"
#include "support/loop_runner.h"
#include "support/process.h"
#include "support/provider_harness.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using providers::Desired;
using providers::Outcome;
using providers::Reconciliation;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::RunResult;

using testing::contains;
using testing::describe;
using testing::desired;

/// The provider harness, making RFC 2136 providers.
class Harness : public testing::ProviderHarness {
 public:
  using ProviderHarness::ProviderHarness;
  bool make(const config::Rfc2136Provider& cfg, providers::ExchangeOptions options = {}) {
    return make_with([&](providers::ProviderContext context) {
      return providers::make_rfc2136_provider(cfg, context, options);
    });
  }
};

/// dig, an independent client, asking `server` directly.
struct Dig {
  std::string server;
  uint16_t port = 0;
  std::filesystem::path dir;  // dig's output files go here: one folder per test process

  RunResult run(std::vector<std::string> args) const {
    std::filesystem::path program = testing::find_program("dig");
    if (program.empty()) return RunResult{-1, "", "dig not found on PATH"};
    args.insert(args.begin(), {program.string(), "+tries=2", "+time=2", "+norec", "@" + server,
                               "-p", std::to_string(port)});
    return testing::run_command(std::move(args), dir, seconds(15));
  }
  /// The rdata the server holds for name/type, sorted; {"status SERVFAIL"} (or the like)
  /// when it answered neither NOERROR nor NXDOMAIN, so that such an answer never passes for
  /// "nothing there".
  std::vector<std::string> rdata(const std::string& name, const std::string& type) const {
    RunResult r = run({"+noall", "+comments", "+answer", name, type});
    std::string status = "none (dig: " + r.err + ")";
    std::vector<std::string> out;
    std::istringstream text(r.out);
    std::string line;
    while (std::getline(text, line)) {
      if (auto at = line.find("status: "); at != std::string::npos) {
        status = line.substr(at + 8, line.find(',', at) - at - 8);
        continue;
      }
      if (line.empty() || line[0] == ';') continue;
      std::istringstream in(line);
      std::string owner, rclass, rtype, data;
      long ttl = 0;
      if (in >> owner >> ttl >> rclass >> rtype && rtype == type &&
          std::getline(in >> std::ws, data)) {
        out.push_back(data);
      }
    }
    if (status != "NOERROR" && status != "NXDOMAIN") return {"status " + status};
    std::sort(out.begin(), out.end());
    return out;
  }
  /// The TTL of the first record of name/type, or -1.
  long ttl(const std::string& name, const std::string& type) const {
    std::istringstream in(run({"+noall", "+answer", name, type}).out);
    std::string owner;
    long ttl = -1;
    // A failed extraction stores 0: only a parsed line counts.
    if (!(in >> owner >> ttl)) return -1;
    return ttl;
  }
  long serial(const std::string& zone) const {
    std::istringstream in(run({"+short", zone, "SOA"}).out);
    std::string mname, rname;
    long serial = -1;
    // dig prints ";; communications error ..." when nothing answers: that is no serial.
    if (!(in >> mname >> rname >> serial)) return -1;
    return serial;
  }
};

/// A UDP socket on 127.0.0.1 that never answers: a server that drops queries.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~SilentServer() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

std::string random_secret(size_t bytes) {
  std::random_device rd;
  std::string raw;
  for (size_t i = 0; i < bytes; ++i) raw += static_cast<char>(rd() & 0xff);
  return base64_encode(raw);
}

// ---------------------------------------------------------------------------------------------
// BIND 9 (the lab's auth1)

class Rfc2136BindTest : public testing::LabFixture {
 protected:
  void SetUp() override {
    LabFixture::SetUp();
    zone_ = lab_->get("LAB_ZONE");
    dig_ = Dig{lab_->get("LAB_AUTH1"), lab_->auth_port(), dir_.path()};
  }

  config::Rfc2136Provider config() const {
    config::Rfc2136Provider c;
    c.zone = zone_;
    c.server = lab_->get("LAB_AUTH1") + ":" + std::to_string(lab_->auth_port());
    c.key_name = lab_->get("LAB_KEY_NAME");
    c.key_algorithm = lab_->get("LAB_KEY_ALGORITHM");
    c.key_secret = Secret(lab_->get("LAB_KEY_SECRET"));
    return c;
  }

  std::string name(const std::string& label) const { return label + "." + zone_; }

  testing::TempDir dir_;
  std::string zone_;
  Dig dig_;
};

TEST_F(Rfc2136BindTest, AddsARecordThatDidNotExist) {
  Harness h;
  ASSERT_TRUE(h.make(config())) << h.error;
  const std::string n = name("prov-add");
  ASSERT_TRUE(dig_.rdata(n, "A").empty());
  auto r = h.reconcile(desired(n, {"192.0.2.50"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_TRUE(r->before.empty());
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{"192.0.2.50"});
  EXPECT_EQ(dig_.ttl(n, "A"), static_cast<long>(providers::kDefaultTtl));
  // Our own reader now sees it too.
  auto again = h.reconcile(desired(n, {"192.0.2.50"}));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, Outcome::kUnchanged) << describe(again);
  EXPECT_EQ(again->before, std::vector<std::string>{"192.0.2.50"});
}

TEST_F(Rfc2136BindTest, ReplacesAnAddressAndSaysWhatWasThere) {
  Harness h;
  ASSERT_TRUE(h.make(config())) << h.error;
  const std::string n = name("prov-replace");
  ASSERT_TRUE(lab_->update(n, "A", "192.0.2.51", 42)) << lab_->last_error();
  auto r = h.reconcile(desired(n, {"192.0.2.52"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(r->before, std::vector<std::string>{"192.0.2.51"});
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{"192.0.2.52"});
  EXPECT_EQ(dig_.ttl(n, "A"), 42) << "no TTL wanted: the server's is kept";
}

TEST_F(Rfc2136BindTest, UnchangedSendsNoUpdate) {
  Harness h;
  ASSERT_TRUE(h.make(config())) << h.error;
  const std::string n = name("prov-same");
  ASSERT_TRUE(lab_->update(n, "A", "192.0.2.53", 60)) << lab_->last_error();
  long serial = dig_.serial(zone_);
  ASSERT_GT(serial, 0);
  auto r = h.reconcile(desired(n, {"192.0.2.53"}, config::RecordType::kA, 60));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUnchanged) << describe(r);
  EXPECT_EQ(r->before, std::vector<std::string>{"192.0.2.53"});
  EXPECT_EQ(dig_.serial(zone_), serial) << "the SOA serial moved: something was written";
}

TEST_F(Rfc2136BindTest, TwoAddressesInOneRecord) {
  Harness h;
  ASSERT_TRUE(h.make(config())) << h.error;
  const std::string n = name("prov-two");
  auto r = h.reconcile(desired(n, {"192.0.2.62", "192.0.2.61"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(dig_.rdata(n, "A"), (std::vector<std::string>{"192.0.2.61", "192.0.2.62"}));
  long serial = dig_.serial(zone_);
  auto same = h.reconcile(desired(n, {"192.0.2.61", "192.0.2.62"}));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->outcome, Outcome::kUnchanged) << describe(same);
  EXPECT_EQ(same->before, (std::vector<std::string>{"192.0.2.61", "192.0.2.62"}));
  EXPECT_EQ(dig_.serial(zone_), serial);
  // Down to one: the other is removed in the same update.
  auto one = h.reconcile(desired(n, {"192.0.2.62"}));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->outcome, Outcome::kUpdated) << describe(one);
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{"192.0.2.62"});
}

TEST_F(Rfc2136BindTest, AaaaBesideAnARecord) {
  Harness h;
  ASSERT_TRUE(h.make(config())) << h.error;
  const std::string n = name("prov-v6");
  ASSERT_TRUE(lab_->update(n, "A", "192.0.2.70")) << lab_->last_error();
  auto r = h.reconcile(desired(n, {"2001:db8::70"}, config::RecordType::kAAAA, 120));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_TRUE(r->before.empty());
  EXPECT_EQ(dig_.rdata(n, "AAAA"), std::vector<std::string>{"2001:db8::70"});
  EXPECT_EQ(dig_.ttl(n, "AAAA"), 120);
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{"192.0.2.70"}) << "A was touched";
  // The same address in another spelling is the same address.
  auto same = h.reconcile(desired(n, {"2001:DB8:0::70"}, config::RecordType::kAAAA, 120));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->outcome, Outcome::kUnchanged) << describe(same);
}

TEST_F(Rfc2136BindTest, TtlChangeAloneIsWritten) {
  Harness h;
  ASSERT_TRUE(h.make(config())) << h.error;
  const std::string n = name("prov-ttl");
  ASSERT_TRUE(lab_->update(n, "A", "192.0.2.80", 30)) << lab_->last_error();
  auto r = h.reconcile(desired(n, {"192.0.2.80"}, config::RecordType::kA, 90));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(dig_.ttl(n, "A"), 90);
}

TEST_F(Rfc2136BindTest, WrongKeyNameIsRejected) {
  Harness h;
  auto c = config();
  c.key_name = "not-a-key-bind-knows";
  ASSERT_TRUE(h.make(c)) << h.error;
  const std::string n = name("prov-badkey");
  auto r = h.reconcile(desired(n, {"192.0.2.90"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "BADKEY")) << r->message;
  EXPECT_TRUE(contains(r->message, "not-a-key-bind-knows")) << r->message;
  EXPECT_TRUE(dig_.rdata(n, "A").empty());
}

TEST_F(Rfc2136BindTest, WrongSecretIsRejectedAsABadSignature) {
  Harness h;
  auto c = config();
  c.key_secret = Secret(random_secret(32));
  ASSERT_TRUE(h.make(c)) << h.error;
  const std::string n = name("prov-badsig");
  auto r = h.reconcile(desired(n, {"192.0.2.91"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "signature")) << r->message;
  EXPECT_TRUE(contains(r->message, "BADSIG")) << r->message;
  EXPECT_FALSE(contains(r->message, c.key_secret.reveal())) << "the secret leaked";
  EXPECT_TRUE(dig_.rdata(n, "A").empty());
}

TEST_F(Rfc2136BindTest, ClockTwentyMinutesBehindIsBadTime) {
  Harness h(-std::chrono::minutes(20));
  ASSERT_TRUE(h.make(config())) << h.error;
  const std::string n = name("prov-skew");
  auto r = h.reconcile(desired(n, {"192.0.2.92"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  ASSERT_TRUE(r->clock_skew.has_value()) << describe(r);
  auto skew = std::chrono::duration_cast<seconds>(*r->clock_skew).count();
  EXPECT_NEAR(static_cast<double>(skew), 1200.0, 5.0);
  EXPECT_TRUE(contains(r->message, "BADTIME")) << r->message;
  EXPECT_TRUE(contains(r->message, "behind")) << r->message;
  EXPECT_TRUE(contains(r->message, "clock")) << r->message;
  EXPECT_TRUE(dig_.rdata(n, "A").empty());
}

TEST_F(Rfc2136BindTest, ZoneNotServedIsRejected) {
  Harness h;
  auto c = config();
  c.zone = "not-served.test";
  ASSERT_TRUE(h.make(c)) << h.error;
  auto r = h.reconcile(desired("host.not-served.test", {"192.0.2.93"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "REFUSED") || contains(r->message, "NOTAUTH")) << r->message;
  EXPECT_TRUE(contains(r->message, "not-served.test")) << r->message;
}

TEST_F(Rfc2136BindTest, AliasIsRejectedNotOverwritten) {
  Harness h;
  ASSERT_TRUE(h.make(config())) << h.error;
  const std::string n = name("www");  // a CNAME in the lab's zone
  auto r = h.reconcile(desired(n, {"192.0.2.94"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "CNAME")) << r->message;
  EXPECT_EQ(dig_.rdata(n, "CNAME"), std::vector<std::string>{name("fixed") + "."});
}

TEST_F(Rfc2136BindTest, ServerDownFailsAtOnce) {
  Harness h;
  auto c = config();
  c.server = lab_->get("LAB_DEAD") + ":" + std::to_string(lab_->auth_port());  // nothing there
  ASSERT_TRUE(h.make(c, {seconds(2), 2})) << h.error;
  auto started = steady_clock::now();
  auto r = h.reconcile(desired(name("prov-down"), {"192.0.2.95"}), seconds(10));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "refused")) << r->message;
  EXPECT_LT(steady_clock::now() - started, seconds(2)) << "a refused query need not wait";
}

TEST_F(Rfc2136BindTest, SilentServerFailsWithinTheTimeout) {
  SilentServer silent;
  ASSERT_NE(silent.port(), 0);
  Harness h;
  auto c = config();
  c.server = "127.0.0.1:" + std::to_string(silent.port());
  ASSERT_TRUE(h.make(c, {milliseconds(300), 2})) << h.error;
  auto started = steady_clock::now();
  auto r = h.reconcile(desired(name("prov-silent"), {"192.0.2.96"}), seconds(10));
  auto took = steady_clock::now() - started;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "no answer")) << r->message;
  EXPECT_GE(took, milliseconds(550)) << "gave up before two tries of 300 ms";
  EXPECT_LT(took, seconds(3));
}

TEST_F(Rfc2136BindTest, DestroyingTheProviderCancelsWithoutCallingBack) {
  SilentServer silent;
  Harness h;
  auto c = config();
  c.server = "127.0.0.1:" + std::to_string(silent.port());
  ASSERT_TRUE(h.make(c, {milliseconds(200), 1})) << h.error;
  bool called = false;
  h.provider->reconcile(desired(name("prov-cancel"), {"192.0.2.97"}),
                        [&](Reconciliation) { called = true; });
  // Let the query go out, then drop the provider while it waits for the answer.
  testing::run_loop_until(
      h.loop(), [] { return false; }, milliseconds(50));
  h.provider.reset();
  testing::run_loop_until(
      h.loop(), [] { return false; }, milliseconds(400));
  EXPECT_FALSE(called);
}

// ---------------------------------------------------------------------------------------------
// PowerDNS Authoritative (gsqlite3), started for this suite

constexpr char kPdnsAddress[] = "127.0.0.5";
constexpr char kPdnsZone[] = "pdns.test";
constexpr char kKey256[] = "ddnswatch-256";
constexpr char kKey512[] = "ddnswatch-512";
constexpr char kKeyReadOnly[] = "ddnswatch-read";  // known to the server, not allowed to update
constexpr char kApiKey[] = "ddnswatch-api-key";

class Rfc2136PowerDnsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>();
    error_.clear();
    secret256_ = random_secret(32);
    secret512_ = random_secret(64);
    port_ = testing::free_port();
    api_port_ = testing::free_port();
    error_ = start();
  }
  static void TearDownTestSuite() {
    if (server_) {
      server_->signal(SIGTERM);
      if (!server_->wait(seconds(5))) server_->signal(SIGKILL);
      server_.reset();  // SIGKILLs it if it still runs
    }
    dir_.reset();
  }
  void SetUp() override {
    ASSERT_TRUE(error_.empty()) << "PowerDNS did not start: " << error_;
    dig_ = Dig{kPdnsAddress, port_, dir_->path()};
  }

  /// Writes the config and database, imports the keys, starts pdns_server and waits until it
  /// answers. Returns what went wrong, or "".
  static std::string start() {
    const auto& dir = dir_->path();
    const std::string db = (dir / "pdns.sqlite3").string();
    std::string conf = "launch=gsqlite3\ngsqlite3-database=" + db +
                       "\n"
                       "daemon=no\nguardian=no\nwrite-pid=no\nsocket-dir=" +
                       dir.string() +
                       "\n"
                       "security-poll-suffix=\n"
                       "local-address=" +
                       std::string(kPdnsAddress) + ":" + std::to_string(port_) +
                       "\n"
                       "dnsupdate=yes\nallow-dnsupdate-from=127.0.0.0/8\n"
                       // No packet cache: every query sees the zone as it is now.
                       "cache-ttl=0\nquery-cache-ttl=0\nnegquery-cache-ttl=0\n"
                       "distributor-threads=1\nreceiver-threads=1\nloglevel=6\n"
                       "api=yes\napi-key=" +
                       std::string(kApiKey) +
                       "\nwebserver=yes\nwebserver-address=127.0.0.1\nwebserver-port=" +
                       std::to_string(api_port_) + "\nwebserver-allow-from=127.0.0.0/8\n";
    dir_->write("pdns.conf", conf);

    auto run = [&](std::vector<std::string> argv) -> std::string {
      RunResult r = testing::run_command(argv, dir, seconds(30));
      if (r.code == 0) return "";
      return argv[0] + " " + (argv.size() > 2 ? argv[2] : "") + " exited with " +
             std::to_string(r.code) + ": " + r.out + r.err;
    };
    // The schema Debian ships, loaded with Python's sqlite3 (the lab needs python3 anyway).
    if (auto e = run({"/usr/bin/python3", "-c",
                      "import sqlite3, sys\n"
                      "c = sqlite3.connect(sys.argv[1])\n"
                      "c.executescript(open(sys.argv[2]).read())\n"
                      "c.commit()\n",
                      db, "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"});
        !e.empty()) {
      return e;
    }
    std::filesystem::path pdnsutil = testing::find_program("pdnsutil");
    std::filesystem::path server = testing::find_program("pdns_server");
    if (pdnsutil.empty() || server.empty()) {
      return "pdnsutil or pdns_server not on PATH (apt-get install pdns-server "
             "pdns-backend-sqlite3)";
    }
    const std::string cd = "--config-dir=" + dir.string();
    const std::string p = pdnsutil.string();
    for (auto argv : std::vector<std::vector<std::string>>{
             {p, cd, "create-zone", kPdnsZone, std::string("ns1.") + kPdnsZone},
             {p, cd, "import-tsig-key", kKey256, "hmac-sha256", secret256_},
             {p, cd, "import-tsig-key", kKey512, "hmac-sha512", secret512_},
             {p, cd, "import-tsig-key", kKeyReadOnly, "hmac-sha256", secret256_},
             {p, cd, "set-meta", kPdnsZone, "TSIG-ALLOW-DNSUPDATE", kKey256, kKey512},
             {p, cd, "add-record", kPdnsZone, "old", "A", "30", "198.51.100.1"}}) {
      if (auto e = run(argv); !e.empty()) return e;
    }
    server_ =
        std::make_unique<testing::Process>(std::vector<std::string>{server.string(), cd}, dir);
    Dig dig{kPdnsAddress, port_, dir};
    bool up = testing::wait_until([&] { return server_->running() && dig.serial(kPdnsZone) >= 0; },
                                  seconds(10));
    if (!up) return "pdns_server did not answer within 10 s:\n" + server_->err();
    return "";
  }

  config::Rfc2136Provider config(const char* key = kKey256) const {
    config::Rfc2136Provider c;
    c.zone = kPdnsZone;
    c.server = std::string(kPdnsAddress) + ":" + std::to_string(port_);
    c.key_name = key;
    bool sha512 = std::string(key) == kKey512;
    c.key_algorithm = sha512 ? "hmac-sha512" : "hmac-sha256";
    c.key_secret = Secret(sha512 ? secret512_ : secret256_);
    return c;
  }

  static std::string name(const std::string& label) { return label + "." + kPdnsZone; }

  static inline std::unique_ptr<testing::TempDir> dir_;
  static inline std::unique_ptr<testing::Process> server_;
  static inline std::string error_;
  static inline std::string secret256_;
  static inline std::string secret512_;
  static inline uint16_t port_ = 0;
  static inline uint16_t api_port_ = 0;
  Dig dig_;
};

TEST_F(Rfc2136PowerDnsTest, AddsReplacesAndLeavesAloneWithSha256) {
  Harness h;
  ASSERT_TRUE(h.make(config())) << h.error;
  const std::string n = name("host");
  auto added = h.reconcile(desired(n, {"192.0.2.10"}, config::RecordType::kA, 60));
  ASSERT_TRUE(added);
  EXPECT_EQ(added->outcome, Outcome::kUpdated) << describe(added);
  EXPECT_TRUE(added->before.empty());
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{"192.0.2.10"});

  auto replaced = h.reconcile(desired(n, {"192.0.2.11", "192.0.2.12"}));
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->outcome, Outcome::kUpdated) << describe(replaced);
  EXPECT_EQ(replaced->before, std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(dig_.rdata(n, "A"), (std::vector<std::string>{"192.0.2.11", "192.0.2.12"}));
  EXPECT_EQ(dig_.ttl(n, "A"), 60) << "no TTL wanted: the server's is kept";

  long serial = dig_.serial(kPdnsZone);
  auto same = h.reconcile(desired(n, {"192.0.2.12", "192.0.2.11"}));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->outcome, Outcome::kUnchanged) << describe(same);
  EXPECT_EQ(dig_.serial(kPdnsZone), serial);
}

TEST_F(Rfc2136PowerDnsTest, ReplacesARecordCreatedByPdnsutil) {
  Harness h;
  ASSERT_TRUE(h.make(config())) << h.error;
  auto r = h.reconcile(desired(name("old"), {"192.0.2.20"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(r->before, std::vector<std::string>{"198.51.100.1"});
  EXPECT_EQ(dig_.rdata(name("old"), "A"), std::vector<std::string>{"192.0.2.20"});
}

TEST_F(Rfc2136PowerDnsTest, Sha512KeyWorks) {
  Harness h;
  ASSERT_TRUE(h.make(config(kKey512))) << h.error;
  const std::string n = name("sha512");
  auto r = h.reconcile(desired(n, {"2001:db8::512"}, config::RecordType::kAAAA, 300));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(dig_.rdata(n, "AAAA"), std::vector<std::string>{"2001:db8::512"});
  auto same = h.reconcile(desired(n, {"2001:db8::512"}, config::RecordType::kAAAA, 300));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->outcome, Outcome::kUnchanged) << describe(same);
}

TEST_F(Rfc2136PowerDnsTest, WrongSecretIsRejected) {
  Harness h;
  auto c = config();
  c.key_secret = Secret(random_secret(32));
  ASSERT_TRUE(h.make(c)) << h.error;
  const std::string n = name("badsig");
  auto r = h.reconcile(desired(n, {"192.0.2.30"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "signature")) << r->message;
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{});
}

TEST_F(Rfc2136PowerDnsTest, WrongKeyNameIsRejected) {
  Harness h;
  auto c = config();
  c.key_name = "unknown-key";
  ASSERT_TRUE(h.make(c)) << h.error;
  auto r = h.reconcile(desired(name("badkey"), {"192.0.2.31"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
}

TEST_F(Rfc2136PowerDnsTest, KeyNotAllowedToUpdateIsRejected) {
  // The key signs our read (PowerDNS answers it), but the zone's TSIG-ALLOW-DNSUPDATE does not
  // name it: the update itself is refused.
  Harness h;
  auto c = config();
  c.key_name = kKeyReadOnly;
  ASSERT_TRUE(h.make(c)) << h.error;
  const std::string n = name("readonly");
  auto r = h.reconcile(desired(n, {"192.0.2.33"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "refused the update")) << r->message;
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{});
}

TEST_F(Rfc2136PowerDnsTest, ClockSkewIsRejected) {
  // PowerDNS 4.7 answers a signature outside its fudge with a plain NOTAUTH (no BADTIME, no
  // time of its own), so the skew cannot be measured; the message names the clock anyway.
  Harness h(std::chrono::minutes(20));  // this time ahead
  ASSERT_TRUE(h.make(config())) << h.error;
  const std::string n = name("skew");
  auto r = h.reconcile(desired(n, {"192.0.2.32"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "clock")) << r->message;
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{});
}

// ---------------------------------------------------------------------------------------------
// The PowerDNS HTTP API, at the same kind of PowerDNS

class PowerDnsApiTest : public Rfc2136PowerDnsTest {
 protected:
  static config::PowerdnsProvider api_config(const std::string& key = kApiKey,
                                             const std::string& zone = kPdnsZone) {
    config::PowerdnsProvider c;
    c.zone = zone;
    c.url = "http://127.0.0.1:" + std::to_string(api_port_);
    c.api_key = Secret(key);
    return c;
  }
  static bool make(testing::ProviderHarness& h, const config::PowerdnsProvider& c) {
    return h.make_with([&](providers::ProviderContext context) {
      return providers::make_powerdns_provider(c, config::ProviderConfig{c, {}, {}}, context);
    });
  }
};

TEST_F(PowerDnsApiTest, AddsReplacesAndLeavesAlone) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, api_config())) << h.error;
  const std::string n = name("api-host");
  auto added = h.reconcile(desired(n, {"192.0.2.40"}, config::RecordType::kA, 90));
  ASSERT_TRUE(added);
  EXPECT_EQ(added->outcome, Outcome::kUpdated) << describe(added);
  EXPECT_TRUE(added->before.empty());
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{"192.0.2.40"});
  EXPECT_EQ(dig_.ttl(n, "A"), 90);

  auto replaced = h.reconcile(desired(n, {"192.0.2.42", "192.0.2.41"}));
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->outcome, Outcome::kUpdated) << describe(replaced);
  EXPECT_EQ(replaced->before, std::vector<std::string>{"192.0.2.40"});
  EXPECT_EQ(dig_.rdata(n, "A"), (std::vector<std::string>{"192.0.2.41", "192.0.2.42"}));
  EXPECT_EQ(dig_.ttl(n, "A"), 90) << "no TTL wanted: the RRset's is kept";

  const long serial = dig_.serial(kPdnsZone);
  auto same = h.reconcile(desired(n, {"192.0.2.41", "192.0.2.42"}));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->outcome, Outcome::kUnchanged) << describe(same);
  EXPECT_EQ(same->before, (std::vector<std::string>{"192.0.2.41", "192.0.2.42"}));
  EXPECT_EQ(dig_.serial(kPdnsZone), serial) << "nothing was written";
}

TEST_F(PowerDnsApiTest, AaaaBesideTheARecordLeavesTheALone) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, api_config())) << h.error;
  const std::string n = name("api-dual");
  auto a = h.reconcile(desired(n, {"192.0.2.50"}));
  ASSERT_TRUE(a);
  ASSERT_EQ(a->outcome, Outcome::kUpdated) << describe(a);
  auto aaaa =
      h.reconcile(desired(n, {"2001:DB8:0:0::50"}, config::RecordType::kAAAA));  // not canonical
  ASSERT_TRUE(aaaa);
  EXPECT_EQ(aaaa->outcome, Outcome::kUpdated) << describe(aaaa);
  EXPECT_EQ(dig_.rdata(n, "AAAA"), std::vector<std::string>{"2001:db8::50"});
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{"192.0.2.50"});
  auto again = h.reconcile(desired(n, {"2001:db8::50"}, config::RecordType::kAAAA));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, Outcome::kUnchanged) << describe(again);
}

TEST_F(PowerDnsApiTest, ReplacesARecordCreatedByPdnsutilAndKeepsItsTtl) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, api_config())) << h.error;
  const std::string n = name("old");
  auto r = h.reconcile(desired(n, {"192.0.2.60"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(r->before, std::vector<std::string>{"198.51.100.1"});
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{"192.0.2.60"});
  EXPECT_EQ(dig_.ttl(n, "A"), 30);
}

TEST_F(PowerDnsApiTest, WrongApiKeyIsRejectedAndNothingIsWritten) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, api_config("not-the-key"))) << h.error;
  const std::string n = name("api-badkey");
  auto r = h.reconcile(desired(n, {"192.0.2.70"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "HTTP 401")) << r->message;
  EXPECT_FALSE(contains(r->message, "not-the-key")) << "the key must never be shown";
  EXPECT_EQ(dig_.rdata(n, "A"), std::vector<std::string>{});
}

TEST_F(PowerDnsApiTest, ZoneNotServedIsRejected) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, api_config(kApiKey, "elsewhere.test"))) << h.error;
  auto r = h.reconcile(desired("host.elsewhere.test", {"192.0.2.71"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "not served")) << r->message;
}

TEST_F(PowerDnsApiTest, NameOutsideTheZoneIsRejectedBeforeAnyRequest) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, api_config())) << h.error;
  auto r = h.reconcile(desired("host.other.test", {"192.0.2.72"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "not inside zone")) << r->message;
}

TEST_F(PowerDnsApiTest, ApiDownFailsAndCanBeRetried) {
  testing::ProviderHarness h;
  auto c = api_config();
  c.url = "http://127.0.0.1:" + std::to_string(testing::free_port());
  ASSERT_TRUE(make(h, c)) << h.error;
  auto r = h.reconcile(desired(name("api-down"), {"192.0.2.73"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "connect")) << r->message;
}

TEST_F(PowerDnsApiTest, DestroyingTheProviderCancelsWithoutCallingBack) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, api_config())) << h.error;
  bool called = false;
  h.provider->reconcile(desired(name("api-cancel"), {"192.0.2.74"}),
                        [&](providers::Reconciliation) { called = true; });
  h.provider.reset();
  testing::run_loop_until(
      h.loop(), [] { return false; }, milliseconds(300));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace ddnswatch
