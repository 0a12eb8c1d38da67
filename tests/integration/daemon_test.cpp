// The daemon as an operator runs it: started on a config, scraped by Prometheus's own linter,
// reloaded with SIGHUP or by editing the file (a bad config keeps the old one running),
// stopped with SIGTERM/SIGINT.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "support/http_get.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

class DaemonTest : public ::testing::Test {
 protected:
  std::string config_for(uint16_t port) const {
    return nlohmann::json{{"listen", "127.0.0.1:" + std::to_string(port)},
                          {"state_dir", (dir_.path() / "state").string()}}
        .dump();
  }

  std::string url(const std::string& path, uint16_t port = 0) const {
    return "http://127.0.0.1:" + std::to_string(port ? port : port_) + path;
  }

  // Starts the daemon and waits until /healthz answers.
  std::unique_ptr<testing::Process> start(std::vector<std::string> extra_args = {}) {
    config_ = dir_.write("ddnswatch.json", config_for(port_));
    std::vector<std::string> argv = {DDNSWATCH_BINARY};
    for (auto& a : extra_args) argv.push_back(a);
    argv.insert(argv.end(), {"run", "--config", config_.string()});
    auto p = std::make_unique<testing::Process>(argv, dir_.path());
    bool up = testing::wait_until([&] { return testing::http_get(url("/healthz")).status == 200; },
                                  seconds(10));
    EXPECT_TRUE(up) << "daemon did not come up; stderr:\n" << p->err();
    return p;
  }

  std::string metric_line(const std::string& name) {
    std::string body = testing::http_get(url("/metrics")).body;
    size_t pos = body.find("\n" + name + " ");
    if (pos == std::string::npos) return "";
    size_t end = body.find('\n', pos + 1);
    return body.substr(pos + 1, end - pos - 1);
  }

  testing::TempDir dir_;
  uint16_t port_ = testing::free_port();
  std::filesystem::path config_;
};

TEST_F(DaemonTest, BasicAuthProtectsEverythingButTheProbes) {
  dir_.write("web.password", "s3cret-pass\n");
  config_ = dir_.write(
      "ddnswatch.json",
      nlohmann::json{
          {"listen", "127.0.0.1:" + std::to_string(port_)},
          {"state_dir", (dir_.path() / "state").string()},
          {"web",
           {{"basic_auth", {{"username", "prometheus"}, {"password_file", "web.password"}}}}}}
          .dump());
  testing::Process daemon({DDNSWATCH_BINARY, "run", "--config", config_.string()}, dir_.path());
  ASSERT_TRUE(testing::wait_until([&] { return testing::http_get(url("/healthz")).status == 200; },
                                  seconds(10)))
      << daemon.err();
  EXPECT_EQ(testing::http_get(url("/readyz")).status, 200) << "liveness probes stay open";
  for (const char* path : {"/metrics", "/status", "/"}) {
    auto anonymous = testing::http_get(url(path));
    EXPECT_EQ(anonymous.status, 401) << path;
    EXPECT_EQ(anonymous.headers["www-authenticate"],
              "Basic realm=\"ddnswatch\", charset=\"UTF-8\"");
    EXPECT_EQ(testing::http_get(url(path), seconds(5), false, "prometheus:wrong").status, 401);
    EXPECT_EQ(testing::http_get(url(path), seconds(5), false, "prometheus:s3cret-pass").status, 200)
        << path;
  }
  daemon.signal(SIGTERM);
  ASSERT_TRUE(daemon.wait(seconds(5)));
  EXPECT_THAT(daemon.err(), Not(HasSubstr("s3cret-pass"))) << "secrets never reach the log";
}

TEST_F(DaemonTest, ReadyAtOnceWithNothingToWatchAndStatusIsJson) {
  auto daemon = start();
  EXPECT_EQ(testing::http_get(url("/readyz")).body, "ready\n");
  auto r = testing::http_get(url("/status"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  auto doc = nlohmann::json::parse(r.body);
  EXPECT_EQ(doc["names"], nlohmann::json::array());
  EXPECT_EQ(doc["events"], nlohmann::json::array());
  EXPECT_EQ(doc["records"], nlohmann::json::array());
}

TEST_F(DaemonTest, MetricsPassPromtoolAndCarryTheDocumentedSeries) {
  auto daemon = start();
  auto r = testing::http_get(url("/metrics"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("ddnswatch_build_info{revision="));
  EXPECT_THAT(r.body, HasSubstr("\nddnswatch_config_last_reload_successful 1\n"));
  EXPECT_THAT(r.body, HasSubstr("\nddnswatch_config_last_reload_success_timestamp_seconds "));

  // Prometheus sends Accept-Encoding: gzip; the body is the same text, compressed.
  auto zipped = testing::http_get(url("/metrics"), seconds(5), /*gzip=*/true);
  EXPECT_EQ(zipped.headers["content-encoding"], "gzip");
  EXPECT_EQ(zipped.body, r.body);
  EXPECT_EQ(r.headers.count("content-encoding"), 0u) << "not compressed unless asked";

  auto scraped = dir_.write("scrape.txt", r.body);
  auto lint = testing::run_command(
      {"/bin/sh", "-c", "promtool check metrics < '" + scraped.string() + "'"}, dir_.path());
  EXPECT_EQ(lint.code, 0);
  EXPECT_EQ(lint.out + lint.err, "") << "promtool must print nothing";
}

TEST_F(DaemonTest, HealthzAnswersAndUnknownPathsAre404) {
  auto daemon = start();
  auto r = testing::http_get(url("/healthz"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_EQ(testing::http_get(url("/nope")).status, 404);
  EXPECT_EQ(testing::http_get(url("/metrics/extra")).status, 404);
}

TEST_F(DaemonTest, SigtermStopsGracefullyWithinTwoSeconds) {
  auto daemon = start();
  auto before = std::chrono::steady_clock::now();
  daemon->signal(SIGTERM);
  auto status = daemon->wait(seconds(2));
  ASSERT_TRUE(status.has_value()) << "still running 2 s after SIGTERM";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - before, seconds(2));
  EXPECT_THAT(daemon->err(), HasSubstr("received SIGTERM, stopping"));
  EXPECT_NE(testing::http_get(url("/healthz"), milliseconds(500)).status, 200);
}

TEST_F(DaemonTest, AnIdleClientConnectionDoesNotDelayTheStop) {
  auto daemon = start();
  // A client that connects and never sends a request holds a server thread.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  auto before = std::chrono::steady_clock::now();
  daemon->signal(SIGTERM);
  auto status = daemon->wait(seconds(3));
  auto took = std::chrono::steady_clock::now() - before;
  ::close(fd);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  EXPECT_LT(took, seconds(2));
}

TEST_F(DaemonTest, SigintStopsLikeCtrlC) {
  auto daemon = start();
  daemon->signal(SIGINT);
  auto status = daemon->wait(seconds(2));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
}

TEST_F(DaemonTest, BadConfigOnSighupIsRejectedAndTheOldOneKeepsRunning) {
  auto daemon = start();
  ASSERT_TRUE(write_file_atomically(config_, R"({"listen": "127.0.0.1:1", "lisen": "x"})"));
  daemon->signal(SIGHUP);
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return metric_line("ddnswatch_config_last_reload_successful") ==
               "ddnswatch_config_last_reload_successful 0";
      },
      seconds(5)))
      << daemon->err();
  EXPECT_EQ(testing::http_get(url("/healthz")).status, 200);
  EXPECT_THAT(daemon->err(), HasSubstr("/lisen: unknown key (did you mean \"listen\"?)"));
  EXPECT_THAT(daemon->err(), HasSubstr("the previous configuration stays in effect"));

  // Fixing the file and reloading again recovers.
  ASSERT_TRUE(write_file_atomically(config_, config_for(port_)));
  daemon->signal(SIGHUP);
  EXPECT_TRUE(testing::wait_until(
      [&] {
        return metric_line("ddnswatch_config_last_reload_successful") ==
               "ddnswatch_config_last_reload_successful 1";
      },
      seconds(5)));
}

TEST_F(DaemonTest, SighupMovesTheListenerToANewAddress) {
  auto daemon = start();
  uint16_t next = testing::free_port();
  ASSERT_TRUE(write_file_atomically(config_, config_for(next)));
  daemon->signal(SIGHUP);
  ASSERT_TRUE(testing::wait_until(
      [&] { return testing::http_get(url("/healthz", next)).status == 200; }, seconds(5)))
      << daemon->err();
  EXPECT_EQ(testing::http_get(url("/healthz"), milliseconds(500)).status, 0);
}

TEST_F(DaemonTest, EditingTheConfigFileReloadsItWithoutASignal) {
  auto daemon = start();
  // Replaced by a rename, as most editors and config managers do.
  uint16_t next = testing::free_port();
  ASSERT_TRUE(write_file_atomically(config_, config_for(next)));
  ASSERT_TRUE(testing::wait_until(
      [&] { return testing::http_get(url("/healthz", next)).status == 200; }, seconds(5)))
      << daemon->err();
  EXPECT_THAT(daemon->err(), HasSubstr("ddnswatch.json changed"));
  // Rewritten in place (truncated, then written): the same, once the writes settle.
  {
    std::ofstream out(config_, std::ios::trunc);
    out << config_for(port_);
  }
  ASSERT_TRUE(testing::wait_until([&] { return testing::http_get(url("/healthz")).status == 200; },
                                  seconds(5)))
      << daemon->err();
  EXPECT_EQ(metric_line("ddnswatch_config_last_reload_successful"),
            "ddnswatch_config_last_reload_successful 1");
}

TEST_F(DaemonTest, ABadEditKeepsTheOldConfigAndIsNotRetriedUntilTheFileChangesAgain) {
  auto daemon = start();
  ASSERT_TRUE(write_file_atomically(config_, R"({"listen": "127.0.0.1:1", "lisen": "x"})"));
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return metric_line("ddnswatch_config_last_reload_successful") ==
               "ddnswatch_config_last_reload_successful 0";
      },
      seconds(5)))
      << daemon->err();
  EXPECT_EQ(testing::http_get(url("/healthz")).status, 200) << "the old config keeps serving";
  // Another file in the folder changes: the config is not read again.
  dir_.write("unrelated.txt", "x");
  ASSERT_TRUE(write_file_atomically(config_, config_for(port_)));
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return metric_line("ddnswatch_config_last_reload_successful") ==
               "ddnswatch_config_last_reload_successful 1";
      },
      seconds(5)))
      << daemon->err();
  const std::string err = daemon->err();
  size_t rejected = 0;
  for (size_t at = err.find("the previous configuration stays in effect"); at != std::string::npos;
       at = err.find("the previous configuration stays in effect", at + 1)) {
    ++rejected;
  }
  EXPECT_EQ(rejected, 1u) << err;
}

TEST_F(DaemonTest, AConfigMapUpdateBySymlinkSwapIsReloaded) {
  // How the kubelet updates a mounted ConfigMap: the file is a symlink through "..data", a
  // symlink to a timestamped folder that is swapped for a new one in one rename.
  const auto conf = dir_.path() / "conf";
  std::filesystem::create_directories(conf / "..v1");
  dir_.write("conf/..v1/ddnswatch.json", config_for(port_));
  std::filesystem::create_directory_symlink("..v1", conf / "..data");
  std::filesystem::create_symlink("..data/ddnswatch.json", conf / "ddnswatch.json");
  testing::Process daemon({DDNSWATCH_BINARY, "run", "--config", (conf / "ddnswatch.json").string()},
                          dir_.path());
  ASSERT_TRUE(testing::wait_until([&] { return testing::http_get(url("/healthz")).status == 200; },
                                  seconds(10)))
      << daemon.err();
  uint16_t next = testing::free_port();
  std::filesystem::create_directories(conf / "..v2");
  dir_.write("conf/..v2/ddnswatch.json", config_for(next));
  std::filesystem::create_directory_symlink("..v2", conf / "..data_tmp");
  std::filesystem::rename(conf / "..data_tmp", conf / "..data");
  EXPECT_TRUE(testing::wait_until(
      [&] { return testing::http_get(url("/healthz", next)).status == 200; }, seconds(5)))
      << daemon.err();
}

TEST_F(DaemonTest, SighupReloadsEvenAnUnchangedFile) {
  // Secrets in KEY_file files and a renewed certificate are read again on SIGHUP; the file
  // watch only follows the config file itself.
  auto daemon = start();
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return !metric_line("ddnswatch_config_last_reload_success_timestamp_seconds").empty();
      },
      seconds(5)));
  const std::string before = metric_line("ddnswatch_config_last_reload_success_timestamp_seconds");
  ASSERT_TRUE(testing::wait_until(
      [&] {
        daemon->signal(SIGHUP);
        return testing::wait_until(
            [&] {
              return metric_line("ddnswatch_config_last_reload_success_timestamp_seconds") !=
                     before;
            },
            milliseconds(600));
      },
      seconds(5)))
      << daemon->err();
  EXPECT_THAT(daemon->err(), HasSubstr("configuration reloaded"));
  EXPECT_THAT(daemon->err(), Not(HasSubstr("ddnswatch.json changed")));
}

TEST_F(DaemonTest, JsonLogsAreOneObjectPerLine) {
  auto daemon = start({"--log-format", "json"});
  daemon->signal(SIGTERM);
  ASSERT_TRUE(daemon->wait(seconds(2)).has_value());
  std::istringstream lines(daemon->err());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << line;
    ++count;
  }
  EXPECT_GE(count, 2);
}

TEST_F(DaemonTest, PortInUseFailsWithAClearMessage) {
  auto first = start();
  auto second = testing::run_command({DDNSWATCH_BINARY, "run", "--config", config_.string()},
                                     dir_.path(), seconds(10));
  EXPECT_EQ(second.code, 1);
  EXPECT_THAT(second.err, HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port_)));
  EXPECT_THAT(second.err, HasSubstr("Address already in use"));
}

TEST_F(DaemonTest, InvalidConfigAtStartIsNotStarted) {
  auto cfg = dir_.write("bad.json", R"({"listen": 9877})");
  auto r = testing::run_command({DDNSWATCH_BINARY, "run", "--config", cfg.string()}, dir_.path(),
                                seconds(10));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("/listen: expected a string, got an integer"));
  EXPECT_THAT(r.err, HasSubstr("not starting"));
}

TEST_F(DaemonTest, CorruptStateIsReportedAndMovedAsideNotReset) {
  dir_.write("state/state.json", R"({"version": 1, "data": {"trunc)");
  auto daemon = start();
  EXPECT_THAT(daemon->err(), HasSubstr("the file is not valid JSON (truncated?)"));
  int aside = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "state")) {
    if (e.path().filename().string().rfind("state.json.corrupt-", 0) == 0) {
      ++aside;
      EXPECT_EQ(*read_file(e.path()), R"({"version": 1, "data": {"trunc)");
    }
  }
  EXPECT_EQ(aside, 1);
  // The daemon wrote a fresh, valid state beside it.
  auto fresh = nlohmann::json::parse(*read_file(dir_.path() / "state" / "state.json"));
  EXPECT_EQ(fresh["version"], 1);
}

TEST_F(DaemonTest, UnwritableStateDirIsLoggedAndMonitoringGoesOn) {
  dir_.write("state", "a file where the folder should be");
  auto daemon = start();
  EXPECT_THAT(daemon->err(), HasSubstr("cannot create state_dir"));
  EXPECT_EQ(testing::http_get(url("/metrics")).status, 200);
}

}  // namespace
}  // namespace ddnswatch
