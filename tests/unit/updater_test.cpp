// The updater on a real loop with a scripted provider: what it asks the provider, what it
// persists before and after, what it tells the monitor and the notifier, and that a restart
// from the saved state carries out a pending update without asking twice.
#include "updater/updater.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "support/loop_runner.h"

namespace ddnswatch::updater {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using providers::Outcome;

/// Answers each reconcile() with the next scripted outcome, from the loop, and records what
/// it was asked.
class ScriptedProvider final : public providers::Provider {
 public:
  struct Shared {
    std::deque<providers::Reconciliation> script;
    std::vector<providers::Desired> asked;
  };
  ScriptedProvider(EventLoop& loop, std::shared_ptr<Shared> shared)
      : loop_(loop), shared_(std::move(shared)) {}
  std::string kind() const override { return "scripted"; }
  void reconcile(const providers::Desired& desired, Done done) override {
    shared_->asked.push_back(desired);
    providers::Reconciliation r;
    r.outcome = Outcome::kUpdated;
    if (!shared_->script.empty()) {
      r = shared_->script.front();
      shared_->script.pop_front();
    }
    loop_.post([done, r] { done(r); });
  }

 private:
  EventLoop& loop_;
  std::shared_ptr<Shared> shared_;
};

config::Config one_record() {
  config::Config c;
  config::RecordConfig r;
  r.name = "home.example.com";
  r.type = config::RecordType::kA;
  config::PowerdnsProvider p;
  p.zone = "example.com";
  p.url = "http://127.0.0.1:8081";
  p.api_key = Secret("k");
  r.provider.settings = p;
  c.records.push_back(r);
  c.update.min_interval = 1s;
  c.update.cooldown = 0s;
  c.update.error_interval = 1s;
  return c;
}

class UpdaterTest : public ::testing::Test {
 protected:
  void SetUp() override { loop_ = std::move(*EventLoop::create()); }

  std::unique_ptr<Updater> make() {
    return std::make_unique<Updater>(
        *loop_, clock_,
        [this](const config::ProviderConfig&) -> Result<std::unique_ptr<providers::Provider>> {
          return std::unique_ptr<providers::Provider>(
              std::make_unique<ScriptedProvider>(*loop_, shared_));
        },
        nullptr, [this](const json& saved) { saved_ = saved; },
        [this](const RecordEvent& e) { events_.push_back(e.event + ":" + e.detail); },
        [this](const std::string& name, config::RecordType, const Addresses& a) {
          held_[name] = a;
        });
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds t = 3000ms) {
    return testing::run_loop_until(*loop_, done, t);
  }

  SystemClock clock_;
  std::unique_ptr<EventLoop> loop_;
  std::shared_ptr<ScriptedProvider::Shared> shared_ = std::make_shared<ScriptedProvider::Shared>();
  json saved_;
  std::vector<std::string> events_;
  std::map<std::string, Addresses> held_;
};

TEST_F(UpdaterTest, NothingIsAskedBeforeAnAddressIsTrusted) {
  auto u = make();
  u->configure(one_record());
  run_until([] { return false; }, 100ms);
  EXPECT_TRUE(shared_->asked.empty());
  EXPECT_NE(u->status_json().find(R"("state":"waiting")"), std::string::npos) << u->status_json();
}

TEST_F(UpdaterTest, AnAddressIsWrittenOnceAndTheMonitorLearnsIt) {
  auto u = make();
  u->configure(one_record());
  u->set_address(config::RecordType::kA, "198.51.100.7");
  ASSERT_TRUE(run_until([&] { return !held_.empty(); }));
  ASSERT_EQ(shared_->asked.size(), 1u);
  EXPECT_EQ(shared_->asked[0].name, "home.example.com");
  EXPECT_EQ(shared_->asked[0].addresses, Addresses{"198.51.100.7"});
  EXPECT_EQ(held_["home.example.com"], Addresses{"198.51.100.7"});
  EXPECT_EQ(events_, std::vector<std::string>{"record_updated:198.51.100.7"});
  const json& rec = saved_["records"]["home.example.com/A"];
  EXPECT_EQ(rec["held"], json({"198.51.100.7"}));
  // The same address again: nothing to do until the periodic re-read.
  u->set_address(config::RecordType::kA, "198.51.100.7");
  run_until([] { return false; }, 100ms);
  EXPECT_EQ(shared_->asked.size(), 1u);
  EXPECT_NE(u->status_json().find(R"("state":"in_sync")"), std::string::npos);
}

TEST_F(UpdaterTest, AFailureIsReportedOnceAndRetriedAfterTheBackoff) {
  providers::Reconciliation fail;
  fail.outcome = Outcome::kFailed;
  fail.message = "connection refused";
  shared_->script = {fail, fail};
  auto u = make();
  u->configure(one_record());
  u->set_address(config::RecordType::kA, "198.51.100.7");
  // 1 s, then 2 s (±20 %): the third attempt succeeds within about 4 s.
  ASSERT_TRUE(run_until([&] { return shared_->asked.size() == 3 && !held_.empty(); }, 6000ms));
  EXPECT_EQ(events_, (std::vector<std::string>{"record_failed:connection refused",
                                               "record_updated:198.51.100.7"}));
}

TEST_F(UpdaterTest, ARefusalIsNotRetriedUntilTheConfigChanges) {
  providers::Reconciliation refused;
  refused.outcome = Outcome::kRejected;
  refused.message = "badauth";
  shared_->script = {refused};
  auto u = make();
  u->configure(one_record());
  u->set_address(config::RecordType::kA, "198.51.100.7");
  ASSERT_TRUE(run_until([&] { return shared_->asked.size() == 1 && !events_.empty(); }));
  u->set_address(config::RecordType::kA, "198.51.100.8");
  run_until([] { return false; }, 1500ms);
  EXPECT_EQ(shared_->asked.size(), 1u);
  EXPECT_NE(u->status_json().find(R"("state":"refused")"), std::string::npos);
  // A new credential: a new attempt.
  config::Config c = one_record();
  std::get<config::PowerdnsProvider>(c.records[0].provider.settings).api_key = Secret("k2");
  u->configure(c);
  ASSERT_TRUE(run_until([&] { return shared_->asked.size() == 2; }));
  EXPECT_EQ(shared_->asked[1].addresses, Addresses{"198.51.100.8"});
}

TEST_F(UpdaterTest, APendingUpdateSurvivesARestartAndTheStateHoldsNoSecret) {
  {
    // The provider never answers: the daemon dies mid-update.
    class Silent final : public providers::Provider {
     public:
      std::string kind() const override { return "silent"; }
      void reconcile(const providers::Desired&, Done) override {}
    };
    Updater u(
        *loop_, clock_,
        [](const config::ProviderConfig&) -> Result<std::unique_ptr<providers::Provider>> {
          return std::unique_ptr<providers::Provider>(std::make_unique<Silent>());
        },
        nullptr, [this](const json& saved) { saved_ = saved; }, {}, {});
    u.configure(one_record());
    u.set_address(config::RecordType::kA, "198.51.100.9");
    run_until([] { return false; }, 50ms);
  }
  ASSERT_EQ(saved_["records"]["home.example.com/A"]["desired"], json({"198.51.100.9"}));
  EXPECT_EQ(saved_.dump().find("\"k\""), std::string::npos) << "no API key in the state";
  auto u = make();
  u->restore(saved_);
  u->configure(one_record());  // no detection yet after the restart
  ASSERT_TRUE(run_until([&] { return !held_.empty(); }));
  ASSERT_EQ(shared_->asked.size(), 1u);
  EXPECT_EQ(shared_->asked[0].addresses, Addresses{"198.51.100.9"});
}

TEST_F(UpdaterTest, AStateFileEditedByHandDoesNotStopTheUpdates) {
  // Members of another type, or times and counts out of any range, count as absent: the
  // daemon starts and keeps the record up to date (they used to throw out of restore(), or
  // overflow the clock).
  const json saved = json::parse(R"({"records": {"home.example.com/A": {
      "fingerprint": 5, "desired": "198.51.100.1", "held": [1],
      "last_attempt": 9223372036854775807, "last_success": -9223372036854775807,
      "not_before": 9223372036854775807, "failures": 9223372036854775807, "latched": 3,
      "proxied": "yes"}}})");
  auto u = make();
  EXPECT_NO_THROW(u->restore(saved));
  u->configure(one_record());
  u->set_address(config::RecordType::kA, "198.51.100.7");
  ASSERT_TRUE(run_until([&] { return !held_.empty(); }));
  ASSERT_EQ(shared_->asked.size(), 1u);
  EXPECT_EQ(shared_->asked[0].addresses, Addresses{"198.51.100.7"});
}

TEST_F(UpdaterTest, ARefusalIsRetriedWhenTheOperatorAsks) {
  providers::Reconciliation refused;
  refused.outcome = Outcome::kRejected;
  refused.message = "nohost";
  shared_->script = {refused};
  auto u = make();
  u->configure(one_record());
  u->set_address(config::RecordType::kA, "198.51.100.7");
  ASSERT_TRUE(run_until([&] { return shared_->asked.size() == 1 && events_.size() == 1; }));
  run_until([] { return false; }, 100ms);
  EXPECT_EQ(shared_->asked.size(), 1u) << "latched";
  u->retry_refused();
  ASSERT_TRUE(run_until([&] { return !held_.empty(); }));
  EXPECT_EQ(shared_->asked.size(), 2u);
  EXPECT_EQ(saved_["records"]["home.example.com/A"]["latched"], nullptr);
}

TEST_F(UpdaterTest, FixedAddressesJoinTheDetectedOneAndWaitForIt) {
  auto c = one_record();
  c.records[0].fixed_addresses = {"203.0.113.20"};  // a second uplink with a static address
  auto u = make();
  u->configure(c);
  run_until([] { return false; }, 100ms);
  EXPECT_TRUE(shared_->asked.empty()) << "without the detected address the set is incomplete";
  u->set_address(config::RecordType::kA, "198.51.100.7");
  ASSERT_TRUE(run_until([&] { return !held_.empty(); }));
  ASSERT_EQ(shared_->asked.size(), 1u);
  EXPECT_EQ(shared_->asked[0].addresses, (Addresses{"198.51.100.7", "203.0.113.20"}));
  EXPECT_EQ(held_["home.example.com"], (Addresses{"198.51.100.7", "203.0.113.20"}));
}

TEST_F(UpdaterTest, ARecordOfFixedAddressesOnlyNeedsNoDetection) {
  auto c = one_record();
  c.records[0].use_detected = false;
  c.records[0].fixed_addresses = {"203.0.113.20", "203.0.113.21"};
  auto u = make();
  u->configure(c);
  ASSERT_TRUE(run_until([&] { return !held_.empty(); }));
  EXPECT_EQ(shared_->asked.at(0).addresses, (Addresses{"203.0.113.20", "203.0.113.21"}));
  // A detected address changes nothing for it.
  u->set_address(config::RecordType::kA, "198.51.100.7");
  run_until([] { return false; }, 100ms);
  EXPECT_EQ(shared_->asked.size(), 1u);
}

TEST_F(UpdaterTest, AProxiedRecordIsNotGivenToTheMonitor) {
  providers::Reconciliation proxied;
  proxied.outcome = Outcome::kUpdated;
  proxied.proxied = true;
  shared_->script = {proxied};
  auto u = make();
  u->configure(one_record());
  u->set_address(config::RecordType::kA, "198.51.100.7");
  ASSERT_TRUE(run_until(
      [&] { return u->status_json().find(R"("state":"in_sync")") != std::string::npos; }));
  EXPECT_TRUE(held_.empty()) << "DNS answers show the proxy's addresses, not the record";
  EXPECT_NE(u->status_json().find(R"("proxied":true)"), std::string::npos);
  EXPECT_EQ(saved_["records"]["home.example.com/A"]["proxied"], true);
}

}  // namespace
}  // namespace ddnswatch::updater
