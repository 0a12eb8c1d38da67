// The daemon is SIGKILLed in the middle of an update, again and again, and restarted with
// address detection failing: the pending update must still be carried out from the state
// file, and nothing may be written twice for the same address. The provider is a fake
// PowerDNS API (what a real PowerDNS checks: the X-API-Key header, the zone path, a REPLACE
// of the RRset) that can hold its answers back, so that the kills land in the exact windows
// that matter: while the record is read, and after the write was applied but before the
// daemon heard back. A third kind of round kills at a random moment.
#include <gtest/gtest.h>

#include <condition_variable>
#include <csignal>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/state_store.h"
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
const std::string kZonePath = std::string("/api/v1/servers/localhost/zones/") + kZone + ".";

/// The part of the PowerDNS API the provider uses, with one A RRset, a count of the writes of
/// each address, and answers that can be held back.
class FakePowerDns {
 public:
  enum class Hold { kNothing, kReads, kWritesAfterApplying };

  FakePowerDns()
      // civetweb drops the final dot of a path before matching routes.
      : server_(testing::ReceiverOptions{
            {kZonePath, kZonePath.substr(0, kZonePath.size() - 1)}, {"GET", "PATCH"}, {}}) {
    server_.set_handler([this](const exporters::HttpRequest& r) { return handle(r); });
  }
  ~FakePowerDns() { set_hold(Hold::kNothing); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }

  void set_hold(Hold hold) {
    std::lock_guard lock(mutex_);
    hold_ = hold;
    changed_.notify_all();
  }
  /// Waits until a request is being held back.
  bool wait_held(milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return holding_ > 0; });
  }
  std::vector<std::string> held() const {
    std::lock_guard lock(mutex_);
    return addresses_;
  }
  int writes_of(const std::string& address) const {
    std::lock_guard lock(mutex_);
    auto it = writes_.find(address);
    return it == writes_.end() ? 0 : it->second;
  }
  int total_writes() const {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& [a, count] : writes_) n += count;
    return n;
  }

 private:
  exporters::HttpResponse handle(const exporters::HttpRequest& r) {
    auto it = r.headers.find("x-api-key");
    if (it == r.headers.end() || it->second != kApiKey) {
      return {401, "application/json", R"({"error": "Unauthorized"})", {}};
    }
    std::unique_lock lock(mutex_);
    if (r.method == "GET") {
      hold_back(lock, Hold::kReads);
      json records = json::array();
      for (const auto& a : addresses_) records.push_back({{"content", a}, {"disabled", false}});
      json rrsets = json::array();
      if (!addresses_.empty()) {
        rrsets.push_back(
            {{"name", std::string(kName) + "."}, {"type", "A"}, {"ttl", 60}, {"records", records}});
      }
      return {200,
              "application/json",
              json{{"name", std::string(kZone) + "."}, {"rrsets", rrsets}}.dump(),
              {}};
    }
    json body = json::parse(r.body, nullptr, false);
    if (!body.is_object() || !body.contains("rrsets") || body["rrsets"].size() != 1 ||
        body["rrsets"][0].value("changetype", "") != "REPLACE" ||
        body["rrsets"][0].value("name", "") != std::string(kName) + ".") {
      return {422, "application/json", R"({"error": "bad rrsets"})", {}};
    }
    std::vector<std::string> next;
    for (const auto& rec : body["rrsets"][0]["records"]) next.push_back(rec.value("content", ""));
    addresses_ = next;
    for (const auto& a : next) ++writes_[a];
    hold_back(lock, Hold::kWritesAfterApplying);
    return {204, "text/plain", "", {}};
  }

  // While `when` is the hold, the answer waits (at most 20 s: a kill or a release ends it).
  void hold_back(std::unique_lock<std::mutex>& lock, Hold when) {
    if (hold_ != when) return;
    ++holding_;
    changed_.notify_all();
    changed_.wait_for(lock, seconds(20), [&] { return hold_ != when; });
    --holding_;
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Hold hold_ = Hold::kNothing;
  int holding_ = 0;
  std::vector<std::string> addresses_;
  std::map<std::string, int> writes_;
  testing::Receiver server_;  // last: destroyed first, while the members above still live
};

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
  FakePowerDns pdns_;
  std::filesystem::path config_;
};

TEST_F(UpdaterKillTest, APendingUpdateIsCarriedOutOnceAfterAKillAtAnyMoment) {
  std::mt19937 rng(2136);
  std::uniform_int_distribution<int> delay_ms(0, 400);
  SystemClock clock;
  constexpr int kRounds = 12;
  int killed_while_reading = 0;
  int killed_after_writing = 0;
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
    ASSERT_NO_FATAL_FAILURE(kill(daemon));

    StateStore store(dir_.path() / "state", clock);
    auto loaded = store.load();
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_FALSE(loaded->moved_aside) << loaded->problem;
  }
  EXPECT_EQ(pdns_.total_writes(), kRounds) << "one write per new address, no more";
  EXPECT_EQ(killed_while_reading, 4);
  EXPECT_EQ(killed_after_writing, 4);
}

}  // namespace
}  // namespace ddnswatch
