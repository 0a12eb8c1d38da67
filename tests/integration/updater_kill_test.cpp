// The daemon is SIGKILLed in the middle of an update, again and again, and restarted with
// address detection failing: the pending update must still be carried out from the state
// file, and nothing may be written twice for the same address. The provider is a fake
// PowerDNS API (support/fake_powerdns.h) that can hold its answers back, so that the kills
// land in the exact windows that matter: while the record is read, and after the write was
// applied but before the daemon heard back. A third kind of round kills at a random moment.
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/state_store.h"
#include "support/fake_powerdns.h"
#include "support/http_get.h"
#include "support/process.h"
#include "support/receiver.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kZone[] = "kill.test";
constexpr char kName[] = "home.kill.test";
constexpr char kApiKey[] = "kill-test-api-key";
using testing::FakePowerDns;

class UpdaterKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    echo_.set_fallback({503, "text/plain", "down\n", {}});
    json cfg = {{"listen", "127.0.0.1:" + std::to_string(port_)},
                {"state_dir", (dir_.path() / "state").string()},
                {"detect",
                 {{"interval", "10s"},
                  {"allow", {"192.0.2.0/24"}},
                  {"ipv4", {{"sources", {"url:" + echo_.url("/ip") + "#text"}}}}}},
                {"update", {{"min_interval", "1s"}, {"cooldown", "0s"}, {"error_interval", "1s"}}},
                {"records", json::array({{{"name", kName},
                                          {"type", "A"},
                                          {"provider",
                                           {{"kind", "powerdns"},
                                            {"zone", kZone},
                                            {"url", pdns_.url()},
                                            {"api_key", kApiKey}}}}})}};
    config_ = dir_.write("ddnswatch.json", cfg.dump(2));
  }

  std::unique_ptr<testing::Process> start() {
    return std::make_unique<testing::Process>(
        std::vector<std::string>{DDNSWATCH_BINARY, "run", "--config", config_.string()},
        dir_.path());
  }

  void kill(std::unique_ptr<testing::Process>& p) {
    p->signal(SIGKILL);
    auto status = p->wait(seconds(10));
    ASSERT_TRUE(status.has_value()) << "the daemon did not die";
    p.reset();
  }

  json record_status() const {
    auto r = testing::http_get("http://127.0.0.1:" + std::to_string(port_) + "/status");
    json s = json::parse(r.body, nullptr, false);
    if (!s.is_object() || !s.contains("records") || s["records"].empty()) return json();
    return s["records"][0];
  }

  testing::TempDir dir_;
  uint16_t port_ = testing::free_port();
  testing::Receiver echo_{std::vector<std::string>{"/ip"}};
  FakePowerDns pdns_{kZone, kName, kApiKey};
  std::filesystem::path config_;
};

TEST_F(UpdaterKillTest, APendingUpdateIsCarriedOutOnceAfterAKillAtAnyMoment) {
  std::mt19937 rng(2136);
  std::uniform_int_distribution<int> delay_ms(0, 400);
  SystemClock clock;
  constexpr int kRounds = 12;
  int killed_while_reading = 0;
  int killed_after_writing = 0;
  // The state file as the kill left it: it parses as one whole document (nothing was moved
  // aside) and returns what the updater last saved of the record.
  auto saved_record = [&]() -> json {
    StateStore store(dir_.path() / "state", clock);
    auto loaded = store.load();
    EXPECT_TRUE(loaded) << loaded.error().message;
    if (!loaded) return json();
    EXPECT_FALSE(loaded->moved_aside) << loaded->problem;
    return loaded->data.value("/updater/records"_json_pointer / (std::string(kName) + "/A"),
                              json());
  };
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string address = "192.0.2." + std::to_string(10 + round);
    const int kind = round % 3;
    echo_.set_fallback({200, "text/plain", address + "\n", {}});
    pdns_.set_hold(kind == 0   ? FakePowerDns::Hold::kReads
                   : kind == 1 ? FakePowerDns::Hold::kWritesAfterApplying
                               : FakePowerDns::Hold::kNothing);
    auto daemon = start();
    if (kind == 2) {
      // The moment of the kill is the thing under test here: anywhere in the first 400 ms.
      std::this_thread::sleep_for(milliseconds(delay_ms(rng)));
    } else {
      ASSERT_TRUE(pdns_.wait_held(seconds(15))) << "the daemon never got that far:\n"
                                                << daemon->err();
      (kind == 0 ? killed_while_reading : killed_after_writing)++;
    }
    ASSERT_NO_FATAL_FAILURE(kill(daemon));
    if (kind != 2) {
      // Killed mid-update: the file already says what is pending, before any answer came.
      EXPECT_EQ(saved_record().value("desired", json()), json({address}));
    } else {
      saved_record();
    }
    if (kind == 0) {
      EXPECT_EQ(pdns_.writes_of(address), 0) << "killed before the write";
    } else if (kind == 1) {
      EXPECT_EQ(pdns_.held(), std::vector<std::string>{address});
    }

    // Restart with detection failing: only the state file knows what is pending. A random
    // kill may come before the address was even detected; then detection must work again.
    pdns_.set_hold(FakePowerDns::Hold::kNothing);
    if (kind != 2) echo_.set_fallback({503, "text/plain", "down\n", {}});
    daemon = start();
    ASSERT_TRUE(testing::wait_until(
        [&] {
          json r = record_status();
          return pdns_.held() == std::vector<std::string>{address} && r.is_object() &&
                 r["state"] == "in_sync" && r["held"] == json({address});
        },
        seconds(20)))
        << record_status().dump() << "\n"
        << daemon->err();
    EXPECT_EQ(pdns_.writes_of(address), 1) << "written once, whatever the moment of the kill";
    EXPECT_EQ(daemon->err().find("moved it to"), std::string::npos) << daemon->err();
    ASSERT_NO_FATAL_FAILURE(kill(daemon));
    EXPECT_EQ(saved_record().value("held", json()), json({address}));
  }
  EXPECT_EQ(pdns_.total_writes(), kRounds) << "one write per new address, no more";
  EXPECT_EQ(killed_while_reading, 4);
  EXPECT_EQ(killed_after_writing, 4);
}

}  // namespace
}  // namespace ddnswatch
