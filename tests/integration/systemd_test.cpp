// The daemon under systemd, as far as it can be shown without systemd as PID 1: the shipped
// unit passes `systemd-analyze verify` and its offline security review, and the daemon speaks
// the notification protocol of Type=notify (READY=1 once it serves, RELOADING=1 then READY=1
// around a reload, STOPPING=1, WATCHDOG=1 when WatchdogSec asks for it) to a socket the test
// holds in systemd's place.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "support/http_get.h"
#include "support/lab.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::filesystem::path kUnit =
    std::filesystem::path(SOURCE_DIR) / "deploy/systemd/ddnswatch.service";

/// The shipped unit with ExecStart pointing at the binary under test (verify checks that the
/// program exists); every other line as shipped.
std::string unit_for_test() {
  std::ifstream in(kUnit);
  std::stringstream text;
  text << in.rdbuf();
  return std::regex_replace(text.str(), std::regex("/usr/bin/ddnswatch"), DDNSWATCH_BINARY);
}

TEST(SystemdUnitTest, PassesSystemdAnalyzeVerify) {
  testing::TempDir dir;
  const auto unit = dir.write("ddnswatch.service", unit_for_test());
  const auto analyze = testing::find_program("systemd-analyze");
  ASSERT_FALSE(analyze.empty()) << "systemd-analyze is not on PATH: scripts/install-deps.sh "
                                   "installs systemd";
  auto r = testing::run_command({analyze.string(), "verify", unit.string()}, dir.path());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out + r.err, "") << "verify must have nothing to say";
}

TEST(SystemdUnitTest, HasTheHardeningTheServiceNeedsAndScoresWellOffline) {
  const std::string unit = unit_for_test();
  for (const char* line :
       {"Type=notify", "DynamicUser=yes", "StateDirectory=ddnswatch",
        "ConfigurationDirectory=ddnswatch", "ProtectSystem=strict", "NoNewPrivileges=yes",
        "CapabilityBoundingSet=\n", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "SystemCallFilter=@system-service", "After=network-online.target",
        "Wants=network-online.target", "WatchdogSec="}) {
    EXPECT_THAT(unit, HasSubstr(line));
  }
  testing::TempDir dir;
  const auto path = dir.write("ddnswatch.service", unit);
  auto r = testing::run_command({testing::find_program("systemd-analyze").string(), "security",
                                 "--offline=yes", "--no-pager", path.string()},
                                dir.path());
  std::smatch m;
  const std::string out = r.out + r.err;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(Overall exposure level for \S+: ([0-9.]+))")))
      << out;
  // systemd's scale: 0 is locked down, 10 is unprotected; below 2 is "OK".
  EXPECT_LT(std::stod(m[1].str()), 2.0) << out;
}

/// A datagram socket in systemd's place: what the daemon sends to $NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{0, 20000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  bool ok() const { return ok_; }
  std::string env() const { return "NOTIFY_SOCKET=" + path_.string(); }

  /// Waits for a message that contains `text`; everything received is kept in messages().
  bool wait_for(const std::string& text, milliseconds timeout) {
    return testing::wait_until(
        [&] {
          char buf[4096];
          ssize_t n;
          while ((n = ::recv(fd_, buf, sizeof buf, 0)) > 0) {
            messages_.emplace_back(buf, static_cast<size_t>(n));
          }
          for (size_t i = seen_; i < messages_.size(); ++i) {
            if (messages_[i].find(text) != std::string::npos) {
              seen_ = i + 1;
              match_ = messages_[i];
              return true;
            }
          }
          return false;
        },
        timeout);
  }
  const std::vector<std::string>& messages() const { return messages_; }
  /// The message the last successful wait_for() found.
  const std::string& match() const { return match_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool ok_ = false;
  std::vector<std::string> messages_;
  size_t seen_ = 0;
  std::string match_;
};

std::string joined(const std::vector<std::string>& messages) {
  std::string all;
  for (const auto& m : messages) all += "[" + m + "]\n";
  return all;
}

/// The daemon on a minimal config, started as systemd would with `env` and $NOTIFY_SOCKET.
std::unique_ptr<testing::Process> start_daemon(const testing::TempDir& dir,
                                               const NotifySocket& sock, uint16_t port,
                                               std::vector<std::string> env) {
  const auto config =
      dir.write("ddnswatch.json", nlohmann::json{{"listen", "127.0.0.1:" + std::to_string(port)},
                                                 {"state_dir", (dir.path() / "state").string()}}
                                      .dump());
  env.push_back(sock.env());
  return std::make_unique<testing::Process>(
      std::vector<std::string>{DDNSWATCH_BINARY, "run", "--config", config.string()}, dir.path(),
      env);
}

TEST(SystemdNotifyTest, ReadyReloadingStoppingAndWatchdogReachTheNotifySocket) {
  testing::TempDir dir;
  NotifySocket sock(dir.path() / "notify.sock");
  ASSERT_TRUE(sock.ok());
  const uint16_t port = testing::free_port();
  auto process = start_daemon(dir, sock, port, {"WATCHDOG_USEC=400000"});
  testing::Process& daemon = *process;
  ASSERT_TRUE(sock.wait_for("READY=1", seconds(10))) << joined(sock.messages()) << daemon.err();
  // READY=1 comes once the endpoint serves: systemd may start what depends on us right away.
  EXPECT_EQ(testing::http_get("http://127.0.0.1:" + std::to_string(port) + "/healthz").status, 200);
  EXPECT_THAT(sock.match(), HasSubstr("STATUS=serving on 127.0.0.1:"));

  // Half of WatchdogSec: several WATCHDOG=1 within a second.
  ASSERT_TRUE(sock.wait_for("WATCHDOG=1", seconds(2)));
  ASSERT_TRUE(sock.wait_for("WATCHDOG=1", seconds(2)));

  daemon.signal(SIGHUP);
  ASSERT_TRUE(sock.wait_for("RELOADING=1", seconds(5))) << joined(sock.messages());
  EXPECT_THAT(sock.match(), HasSubstr("MONOTONIC_USEC="));
  ASSERT_TRUE(sock.wait_for("READY=1", seconds(5))) << joined(sock.messages());

  daemon.signal(SIGTERM);
  ASSERT_TRUE(sock.wait_for("STOPPING=1", seconds(5))) << joined(sock.messages());
  auto status = daemon.wait(seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
}

TEST(SystemdNotifyTest, AWatchdogMeantForAnotherProcessIsIgnored) {
  testing::TempDir dir;
  NotifySocket sock(dir.path() / "notify.sock");
  ASSERT_TRUE(sock.ok());
  auto daemon =
      start_daemon(dir, sock, testing::free_port(), {"WATCHDOG_USEC=200000", "WATCHDOG_PID=1"});
  ASSERT_TRUE(sock.wait_for("READY=1", seconds(10))) << daemon->err();
  EXPECT_FALSE(sock.wait_for("WATCHDOG=1", milliseconds(600))) << joined(sock.messages());
}

}  // namespace
}  // namespace ddnswatch
