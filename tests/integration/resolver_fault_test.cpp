// Resolvers that fail in the middle of a run: a lab cache is stopped and started again on the
// same address and port, or comes back answering REFUSED or SERVFAIL for a while. The daemon
// must count the failed queries by cause, call that resolver's answer an error (not a foreign
// answer, so no split-brain), keep checking the others, and see it match again soon after it
// is back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "support/fault_fixture.h"
#include "support/http_get.h"
#include "support/process.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr char kName[] = "host3.ddnswatch.test";
constexpr char kVictim[] = "slow30";
// A resolver that answers again is asked at the next check (interval 1 s, timeout 1 s):
// a few seconds on a loaded machine; far more would mean it was given up on.
constexpr auto kRecoveryBound = seconds(8);

class ResolverFaultTest : public testing::FaultFixture {
 protected:
  std::unique_ptr<testing::Process> start_watching() {
    // Each test runs in its own process with its own lab, so stopping a cache here disturbs
    // no other test.
    return start(config(json::array({{{"name", kName},
                                      {"type", "A"},
                                      {"expect", {"192.0.2.1"}},
                                      {"resolvers", {"fast", "slow15", kVictim}},
                                      {"interval", "1s"}}})));
  }

  double state(const std::string& text, const std::string& resolver,
               const std::string& verdict) const {
    return value(text, "ddnswatch_dns_answer_state",
                 {{"name", kName}, {"qtype", "A"}, {"resolver", resolver}, {"state", verdict}});
  }

  double queries(const std::string& text, const std::string& outcome) const {
    return value(text, "ddnswatch_dns_queries_total",
                 {{"resolver", kVictim}, {"outcome", outcome}});
  }

  // The victim's row of /status for the watched name.
  json victim_row() const {
    json s = status();
    if (!s.is_object() || !s.contains("names") || s["names"].empty()) return json();
    for (const auto& r : s["names"][0].value("resolvers", json::array())) {
      if (r.value("resolver", "") == kVictim) return r;
    }
    return json();
  }

  bool all_match() const {
    std::string m = metrics();
    return state(m, "fast", "match") == 1 && state(m, "slow15", "match") == 1 &&
           state(m, kVictim, "match") == 1;
  }

  // While the victim fails in the way `outcome` counts, over at least three more of its
  // queries: its verdict is error, the others still match, no split-brain is claimed, and the
  // checks go on. Returns how long the daemon took to call it an error.
  milliseconds expect_failing_for_a_while(const std::string& outcome,
                                          const std::string& outcome_or) {
    const auto began = std::chrono::steady_clock::now();
    std::string m = metrics();
    const double before = queries(m, outcome) + (outcome_or.empty() ? 0 : queries(m, outcome_or));
    EXPECT_TRUE(
        testing::wait_until([&] { return state(metrics(), kVictim, "error") == 1; }, seconds(10)))
        << metrics();
    const auto noticed =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - began);
    const double first_cycle = value(metrics(), "ddnswatch_monitor_last_cycle_timestamp_seconds");
    EXPECT_TRUE(testing::wait_until(
        [&] {
          m = metrics();
          const double failed =
              queries(m, outcome) + (outcome_or.empty() ? 0 : queries(m, outcome_or));
          return failed >= before + 3;
        },
        seconds(15)))
        << outcome << "\n"
        << m;
    EXPECT_EQ(state(m, kVictim, "error"), 1);
    EXPECT_EQ(state(m, "fast", "match"), 1) << "the other resolvers are still checked";
    EXPECT_EQ(state(m, "slow15", "match"), 1);
    EXPECT_EQ(value(m, "ddnswatch_split_brain", {{"name", kName}, {"qtype", "A"}}), 0)
        << "a resolver that does not answer is no split-brain";
    EXPECT_EQ(value(m, "ddnswatch_dns_answer_groups", {{"name", kName}, {"qtype", "A"}}), 1);
    EXPECT_EQ(value(m, "ddnswatch_propagation_ratio", {{"name", kName}, {"qtype", "A"}}), 1)
        << "the ratio is over the resolvers that answer";
    EXPECT_GT(value(m, "ddnswatch_monitor_last_cycle_timestamp_seconds"), first_cycle)
        << "the daemon keeps cycling";
    EXPECT_EQ(testing::http_get(url("/healthz")).status, 200);
    return noticed;
  }

  // Starts the victim again (after a pause) as a normal cache; returns how long the daemon
  // took to see it match again.
  milliseconds expect_recovery() {
    EXPECT_TRUE(lab_->resume(kVictim)) << lab_->last_error();
    const auto back = std::chrono::steady_clock::now();
    EXPECT_TRUE(testing::wait_until([&] { return state(metrics(), kVictim, "match") == 1; },
                                    kRecoveryBound))
        << victim_row().dump() << "\n"
        << metrics();
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - back);
  }
};

TEST_F(ResolverFaultTest, AResolverThatDisappearsIsAnErrorAndMatchesAgainWhenBack) {
  auto daemon = start_watching();
  ASSERT_TRUE(testing::wait_until([&] { return all_match(); }, seconds(15))) << metrics();

  ASSERT_TRUE(lab_->pause(kVictim)) << lab_->last_error();
  // Nothing listens on its address now: a refused connection (network) or no answer at all
  // (timeout), depending on the socket.
  const milliseconds noticed = expect_failing_for_a_while("network", "timeout");
  const json row = victim_row();
  EXPECT_EQ(row.value("verdict", ""), "error") << row.dump();
  EXPECT_THAT(row.value("outcome", ""), ::testing::AnyOf("network", "timeout"));
  RecordProperty("error_noticed_ms", std::to_string(noticed.count()));

  const milliseconds recovered = expect_recovery();
  RecordProperty("recovered_ms", std::to_string(recovered.count()));
  EXPECT_TRUE(all_match());
  // The log says when it began and when it ended, once each.
  EXPECT_THAT(daemon->err(),
              ::testing::ContainsRegex(std::string("warning ") + kName + " A: resolver_error at " +
                                       kVictim + " \\(outcome (network|timeout)\\)"));
  EXPECT_THAT(daemon->err(), HasSubstr(std::string("resolver_recovered at ") + kVictim));
  EXPECT_THAT(daemon->err(), ::testing::Not(HasSubstr("split_brain_began")));
  EXPECT_TRUE(daemon->running());
}

TEST_F(ResolverFaultTest, AResolverAnsweringRefusedOrServfailIsAnErrorAndRecovers) {
  auto daemon = start_watching();
  ASSERT_TRUE(testing::wait_until([&] { return all_match(); }, seconds(15))) << metrics();

  ASSERT_TRUE(lab_->pause(kVictim)) << lab_->last_error();
  ASSERT_TRUE(lab_->resume(kVictim, "refuse")) << lab_->last_error();
  const milliseconds refused_noticed = expect_failing_for_a_while("refused", "");
  EXPECT_EQ(victim_row().value("outcome", ""), "refused");
  ASSERT_TRUE(lab_->pause(kVictim)) << lab_->last_error();
  const milliseconds refused_recovery = expect_recovery();

  ASSERT_TRUE(lab_->pause(kVictim)) << lab_->last_error();
  ASSERT_TRUE(lab_->resume(kVictim, "servfail")) << lab_->last_error();
  const milliseconds servfail_noticed = expect_failing_for_a_while("servfail", "");
  EXPECT_EQ(victim_row().value("outcome", ""), "servfail");
  ASSERT_TRUE(lab_->pause(kVictim)) << lab_->last_error();
  const milliseconds servfail_recovery = expect_recovery();

  EXPECT_TRUE(all_match());
  EXPECT_THAT(daemon->err(),
              HasSubstr(std::string("resolver_error at ") + kVictim + " (outcome refused)"));
  EXPECT_THAT(daemon->err(),
              HasSubstr(std::string("resolver_error at ") + kVictim + " (outcome servfail)"));
  EXPECT_THAT(daemon->err(), ::testing::Not(HasSubstr("split_brain_began")));
  RecordProperty("refused_noticed_ms", std::to_string(refused_noticed.count()));
  RecordProperty("refused_recovered_ms", std::to_string(refused_recovery.count()));
  RecordProperty("servfail_noticed_ms", std::to_string(servfail_noticed.count()));
  RecordProperty("servfail_recovered_ms", std::to_string(servfail_recovery.count()));
}

}  // namespace
}  // namespace ddnswatch
