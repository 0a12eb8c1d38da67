// The updater's decisions as tables, with a fake time: when a record is reconciled, when it
// waits, and how each outcome changes what happens next.
#include "updater/decision.h"

#include <gtest/gtest.h>

namespace ddnswatch::updater {
namespace {

using namespace std::chrono_literals;
using providers::Outcome;
using providers::Reconciliation;

const WallTime T0 = std::chrono::system_clock::from_time_t(1'800'000'000);
const Addresses kNew = {"198.51.100.7"};
const Addresses kOld = {"198.51.100.1"};

struct DecideCase {
  const char* name;
  RecordStatus status;
  std::optional<Addresses> desired;
  bool reconcile;
  std::optional<Duration> next_in;  // from T0
};

class DecideTest : public ::testing::TestWithParam<DecideCase> {};

TEST_P(DecideTest, Decides) {
  const DecideCase& c = GetParam();
  Decision d = decide(c.status, c.desired, T0, Policy{});
  EXPECT_EQ(d.reconcile, c.reconcile) << d.reason;
  if (c.next_in) {
    ASSERT_TRUE(d.next.has_value()) << d.reason;
    EXPECT_EQ(*d.next - T0, *c.next_in) << d.reason;
  } else {
    EXPECT_FALSE(d.next.has_value()) << d.reason;
  }
  EXPECT_FALSE(d.reason.empty());
}

RecordStatus held(Addresses a, WallTime success, std::optional<WallTime> write = std::nullopt) {
  RecordStatus s;
  s.held = std::move(a);
  s.last_attempt = success;
  s.last_success = success;
  s.last_write = write;
  return s;
}

RecordStatus failing(int failures, WallTime not_before) {
  RecordStatus s;
  s.failures = failures;
  s.last_attempt = T0 - 1min;
  s.not_before = not_before;
  return s;
}

RecordStatus latched() {
  RecordStatus s;
  s.latched = "badauth";
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Table, DecideTest,
    ::testing::Values(
        // Nothing trusted: never write, never blank.
        DecideCase{"NoAddress", RecordStatus{}, std::nullopt, false, std::nullopt},
        DecideCase{"NoAddressWhileHeld", held(kOld, T0 - 2h), std::nullopt, false, std::nullopt},
        DecideCase{"EmptyAddressList", RecordStatus{}, Addresses{}, false, std::nullopt},
        // First sight of a record: read (and write if needed) at once.
        DecideCase{"UnknownRecord", RecordStatus{}, kNew, true, std::nullopt},
        DecideCase{"Differs", held(kOld, T0 - 10min), kNew, true, std::nullopt},
        // In sync: wait until the periodic re-read.
        DecideCase{"InSync", held(kNew, T0 - 10min), kNew, false, 50min},
        DecideCase{"InSyncAndDue", held(kNew, T0 - 61min), kNew, true, std::nullopt},
        // Limits on how often we call the provider.
        DecideCase{"MinInterval", held(kOld, T0 - 10s), kNew, false, 20s},
        DecideCase{"Cooldown", held(kOld, T0 - 1min, T0 - 1min), kNew, false, 1min},
        DecideCase{"CooldownOver", held(kOld, T0 - 3min, T0 - 3min), kNew, true, std::nullopt},
        DecideCase{"BackingOff", failing(2, T0 + 90s), kNew, false, 90s},
        DecideCase{"BackoffOver", failing(2, T0 - 1s), kNew, true, std::nullopt},
        // A refusal waits for a config change, whatever the address does.
        DecideCase{"Latched", latched(), kNew, false, std::nullopt}),
    [](const auto& p) { return std::string(p.param.name); });

Reconciliation result(Outcome o, std::optional<Duration> retry_after = std::nullopt,
                      std::optional<Duration> skew = std::nullopt) {
  Reconciliation r;
  r.outcome = o;
  r.message = "because";
  r.retry_after = retry_after;
  r.clock_skew = skew;
  return r;
}

TEST(ApplyTest, SuccessRecordsWhatTheProviderHoldsAndClearsFailures) {
  RecordStatus s = failing(3, T0 - 1s);
  s = apply(s, kNew, result(Outcome::kUpdated), T0, Policy{}, 1.0);
  EXPECT_EQ(s.held, kNew);
  EXPECT_EQ(s.last_write, T0);
  EXPECT_EQ(s.last_success, T0);
  EXPECT_EQ(s.failures, 0);
  EXPECT_FALSE(s.not_before);
  // The next change waits for the cooldown, then goes.
  EXPECT_EQ(decide(s, kOld, T0 + 1min, Policy{}).next, T0 + 2min);
  EXPECT_TRUE(decide(s, kOld, T0 + 2min, Policy{}).reconcile);

  s = apply(s, kNew, result(Outcome::kUnchanged), T0 + 5min, Policy{}, 1.0);
  EXPECT_EQ(s.last_write, T0) << "unchanged is not a write";
  EXPECT_EQ(s.last_success, T0 + 5min);
}

TEST(ApplyTest, FailuresBackOffExponentiallyWithJitterUpToTheCap) {
  RecordStatus s;
  Policy p;
  std::vector<Duration> waits;
  WallTime now = T0;
  for (int i = 0; i < 8; ++i) {
    s = apply(s, kNew, result(Outcome::kFailed), now, p, 1.0);
    waits.push_back(std::chrono::duration_cast<Duration>(*s.not_before - now));
    now = *s.not_before;
  }
  EXPECT_EQ(waits, (std::vector<Duration>{1min, 2min, 4min, 8min, 16min, 30min, 30min, 30min}));
  EXPECT_EQ(s.failures, 8);
  s = apply(RecordStatus{}, kNew, result(Outcome::kFailed), T0, p, 1.2);
  EXPECT_EQ(*s.not_before - T0, 72s);
}

TEST(ApplyTest, RateLimitsHonourRetryAfterAndWaitAtLeastFiveMinutes) {
  RecordStatus s = apply(RecordStatus{}, kNew, result(Outcome::kRateLimited), T0, Policy{}, 1.0);
  EXPECT_EQ(*s.not_before - T0, 5min);
  s = apply(RecordStatus{}, kNew, result(Outcome::kRateLimited, 20min), T0, Policy{}, 1.0);
  EXPECT_EQ(*s.not_before - T0, 20min);
  s = apply(RecordStatus{}, kNew, result(Outcome::kFailed, 10s), T0, Policy{}, 1.0);
  EXPECT_EQ(*s.not_before - T0, 1min) << "a short Retry-After does not shorten the backoff";
}

TEST(ApplyTest, ARefusalLatchesButClockSkewKeepsRetrying) {
  RecordStatus s = apply(RecordStatus{}, kNew, result(Outcome::kRejected), T0, Policy{}, 1.0);
  EXPECT_EQ(s.latched, "because");
  EXPECT_FALSE(decide(s, kNew, T0 + 24h, Policy{}).reconcile);
  s = apply(RecordStatus{}, kNew, result(Outcome::kRejected, std::nullopt, 900s), T0, Policy{},
            1.0);
  EXPECT_FALSE(s.latched);
  EXPECT_EQ(*s.not_before - T0, 1min);
  EXPECT_TRUE(decide(s, kNew, T0 + 1min, Policy{}).reconcile);
}

TEST(ApplyTest, ASuccessSaysWhetherTheProviderProxiesTheName) {
  Reconciliation r = result(Outcome::kUnchanged);
  r.proxied = true;
  RecordStatus s = apply(RecordStatus{}, kNew, r, T0, Policy{}, 1.0);
  EXPECT_TRUE(s.proxied);
  s = apply(s, kNew, result(Outcome::kUpdated), T0 + 1h, Policy{}, 1.0);
  EXPECT_FALSE(s.proxied) << "no longer proxied: the monitor may judge DNS answers again";
  s.proxied = true;
  s = apply(s, kNew, result(Outcome::kFailed), T0 + 2h, Policy{}, 1.0);
  EXPECT_TRUE(s.proxied) << "a failure says nothing about it";
}

}  // namespace
}  // namespace ddnswatch::updater
