// A state folder that stops taking writes while the daemon runs. Tests run as root, for whom
// file modes change nothing, so the daemon is started in a mount namespace of its own
// (unshare -m) with state_dir on a small tmpfs: filling the tmpfs makes the folder full
// (ENOSPC), remounting it read-only makes it unwritable (EROFS). The daemon must say so in the
// log (the folder and the cause) and in its metrics and /status, leave the previous state file
// whole, keep monitoring and updating, and save again on its own once the folder is repaired.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "core/atomic_file.h"
#include "support/fake_powerdns.h"
#include "support/fault_fixture.h"
#include "support/http_get.h"
#include "support/process.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr char kZone[] = "state.test";
constexpr char kHost[] = "home.state.test";
constexpr char kKey[] = "state-test-api-key";
const std::string kRecord = std::string(kHost) + "/A";
// A failed save is tried again every 5 s; slack for a loaded machine.
constexpr auto kRecoveryBound = seconds(10);

class StateFolderFaultTest : public testing::FaultFixture {
 protected:
  void SetUp() override {
    FaultFixture::SetUp();
    std::filesystem::create_directories(state_dir_);
    detect("192.0.2.30");
  }

  json fault_config() const {
    return updater_config(
        {{"name", kHost},
         {"type", "A"},
         {"provider",
          {{"kind", "powerdns"}, {"zone", kZone}, {"url", pdns_.url()}, {"api_key", kKey}}}},
        {{"min_interval", "1s"}, {"cooldown", "0s"}, {"error_interval", "1s"}});
  }

  // The daemon in a private mount namespace, with state_dir on a 256 KiB tmpfs that only it
  // sees. unshare and sh exec into it: the process's PID is the daemon's.
  std::unique_ptr<testing::Process> start_in_namespace() {
    config_path_ = dir_.write("ddnswatch.json", fault_config().dump(2));
    const std::filesystem::path unshare = testing::find_program("unshare");
    EXPECT_FALSE(unshare.empty()) << "unshare (util-linux) is not on PATH";
    auto p = std::make_unique<testing::Process>(
        std::vector<std::string>{unshare.string(), "-m", "--propagation", "private", "/bin/sh",
                                 "-c", "mount -t tmpfs -o size=256k tmpfs \"$0\" && exec \"$@\"",
                                 state_dir_.string(), DDNSWATCH_BINARY, "run", "--config",
                                 config_path_.string()},
        dir_.path());
    EXPECT_TRUE(testing::wait_until(
        [&] { return testing::http_get(url("/healthz")).status == 200; }, seconds(10)))
        << p->err();
    return p;
  }

  // Runs `command` (sh) inside the daemon's mount namespace.
  void in_namespace(const testing::Process& daemon, const std::string& command) {
    const std::filesystem::path nsenter = testing::find_program("nsenter");
    ASSERT_FALSE(nsenter.empty()) << "nsenter (util-linux) is not on PATH";
    auto r = testing::run_command(
        {nsenter.string(), "-t", std::to_string(daemon.pid()), "-m", "/bin/sh", "-c", command},
        dir_.path());
    EXPECT_EQ(r.code, 0) << command << "\n" << r.out << r.err;
  }

  // state_dir as the daemon sees it: through its root in /proc, which resolves paths in its
  // mount namespace.
  std::filesystem::path seen_by(const testing::Process& daemon) const {
    return std::filesystem::path("/proc") / std::to_string(daemon.pid()) / "root" /
           state_dir_.relative_path();
  }

  // The state file as the daemon's namespace holds it, parsed; discarded if it does not parse.
  json state_file(const testing::Process& daemon) const {
    auto text = read_file(seen_by(daemon) / "state.json");
    return text ? json::parse(*text, nullptr, false) : json(json::value_t::discarded);
  }

  // What a state document says the provider holds for the record.
  static json saved_held(const json& doc) {
    if (!doc.is_object()) return json();
    return doc.value("/data/updater/records"_json_pointer / kRecord / "held", json());
  }

  bool temp_files_left(const testing::Process& daemon) const {
    for (const auto& e : std::filesystem::directory_iterator(seen_by(daemon))) {
      if (e.path().filename().string().rfind(".state.json.tmp.", 0) == 0) return true;
    }
    return false;
  }

  json state_status() const {
    json s = status();
    return s.is_object() && s.contains("state") ? s["state"] : json::object();
  }

  struct Figures {
    milliseconds noticed{};
    milliseconds recovered{};
  };

  // The whole scenario: in sync at .30, the folder breaks (`break_it`), a new address .31 is
  // detected and written at the provider although the state cannot be saved, the old file
  // stays whole, and after `repair` the daemon saves again by itself.
  Figures break_and_repair(const std::string& break_it, const std::string& repair,
                           const std::string& cause) {
    Figures f;
    auto daemon = start_in_namespace();
    EXPECT_TRUE(testing::wait_until([&] { return record_status().value("state", "") == "in_sync"; },
                                    seconds(15)))
        << record_status().dump() << daemon->err();
    std::string m = metrics();
    EXPECT_EQ(value(m, "ddnswatch_state_last_write_successful"), 1);
    EXPECT_EQ(value(m, "ddnswatch_state_write_errors_total"), 0);
    const json before = state_file(*daemon);
    EXPECT_FALSE(before.is_discarded());
    EXPECT_EQ(saved_held(before), json({"192.0.2.30"})) << before.dump();

    in_namespace(*daemon, break_it);
    const auto broken_at = std::chrono::steady_clock::now();
    detect("192.0.2.31", daemon.get());
    // Updating goes on without the state file.
    EXPECT_TRUE(testing::wait_until(
        [&] {
          json r = record_status();
          return r.value("state", "") == "in_sync" && r["held"] == json({"192.0.2.31"});
        },
        seconds(15)))
        << record_status().dump() << daemon->err();
    EXPECT_EQ(pdns_.writes_of("192.0.2.31"), 1);
    EXPECT_TRUE(testing::wait_until(
        [&] { return value(metrics(), "ddnswatch_state_last_write_successful") == 0; },
        seconds(10)));
    f.noticed =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - broken_at);
    m = metrics();
    EXPECT_GE(value(m, "ddnswatch_state_write_errors_total"), 1);
    EXPECT_THAT(daemon->err(),
                HasSubstr("state: cannot save the state in " + state_dir_.string() + ": "));
    EXPECT_THAT(daemon->err(), HasSubstr(cause));
    EXPECT_THAT(daemon->err(), HasSubstr("the previous state.json is kept"));
    json st = state_status();
    EXPECT_EQ(st.value("last_write_successful", true), false) << st.dump();
    EXPECT_THAT(st.value("error", ""), HasSubstr(cause)) << st.dump();
    EXPECT_EQ(st.value("dir", ""), state_dir_.string());
    EXPECT_EQ(testing::http_get(url("/healthz")).status, 200);

    // The previous file is whole and unchanged; no temp file is left behind.
    EXPECT_EQ(state_file(*daemon), before);
    EXPECT_FALSE(temp_files_left(*daemon));

    expect_monitoring_goes_on();

    // Repaired: the next save, a retry with no new change needed, succeeds.
    in_namespace(*daemon, repair);
    const auto repaired_at = std::chrono::steady_clock::now();
    EXPECT_TRUE(testing::wait_until(
        [&] { return value(metrics(), "ddnswatch_state_last_write_successful") == 1; },
        kRecoveryBound))
        << daemon->err();
    f.recovered =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - repaired_at);
    const json after = state_file(*daemon);
    EXPECT_EQ(saved_held(after), json({"192.0.2.31"})) << after.dump();
    EXPECT_THAT(daemon->err(), ::testing::ContainsRegex("state: saved " + state_dir_.string() +
                                                        "/state.json again after [0-9]+ failed"));
    st = state_status();
    EXPECT_EQ(st.value("last_write_successful", false), true) << st.dump();
    EXPECT_TRUE(st["error"].is_null()) << st.dump();
    EXPECT_EQ(pdns_.total_writes(), 2) << "one write per address";
    return f;
  }

  std::filesystem::path state_dir_ = dir_.path() / "state";
  testing::FakePowerDns pdns_{kZone, kHost, kKey};
};

TEST_F(StateFolderFaultTest, AFullStateFolderIsReportedAndTheStateCatchesUpWhenThereIsRoom) {
  const std::string dir = state_dir_.string();
  Figures f = break_and_repair("cat /dev/zero > '" + dir + "/filler' 2>/dev/null; exit 0",
                               "rm '" + dir + "/filler'", "No space left on device");
  RecordProperty("noticed_ms", std::to_string(f.noticed.count()));
  RecordProperty("recovered_ms", std::to_string(f.recovered.count()));
}

TEST_F(StateFolderFaultTest, AReadOnlyStateFolderIsReportedAndTheStateCatchesUpWhenWritable) {
  const std::string dir = state_dir_.string();
  Figures f = break_and_repair("mount -o remount,ro '" + dir + "'",
                               "mount -o remount,rw '" + dir + "'", "Read-only file system");
  RecordProperty("noticed_ms", std::to_string(f.noticed.count()));
  RecordProperty("recovered_ms", std::to_string(f.recovered.count()));
}

// A state file this version cannot read (a newer format) is reported and never replaced, even
// while the daemon updates records: the newer ddnswatch's state survives a downgrade.
TEST_F(StateFolderFaultTest, AStateFileOfANewerFormatIsNeverOverwritten) {
  const std::string newer = R"({"version": 99, "data": {"from": "the future"}})";
  const auto file = dir_.write("state/state.json", newer);
  config_path_ = dir_.write("ddnswatch.json", fault_config().dump(2));
  testing::Process daemon({DDNSWATCH_BINARY, "run", "--config", config_path_.string()},
                          dir_.path());
  ASSERT_TRUE(testing::wait_until([&] { return record_status().value("state", "") == "in_sync"; },
                                  seconds(15)))
      << record_status().dump() << daemon.err();
  detect("192.0.2.31", &daemon);
  ASSERT_TRUE(testing::wait_until([&] { return record_status()["held"] == json({"192.0.2.31"}); },
                                  seconds(15)))
      << record_status().dump() << daemon.err();
  EXPECT_EQ(*read_file(file), newer);
  EXPECT_THAT(daemon.err(), HasSubstr("has format version 99, newer than this ddnswatch"));
  EXPECT_THAT(daemon.err(), HasSubstr("running without a state file"));
  EXPECT_EQ(value(metrics(), "ddnswatch_state_last_write_successful"), 0);
  EXPECT_EQ(state_status().value("last_write_successful", true), false);
}

}  // namespace
}  // namespace ddnswatch
