// The token bucket that paces queries to one resolver (resolvers/token_bucket.h), driven by
// fixed SteadyTime values and never by sleeping: it starts full, refills at `rate` tokens per
// second and never above `burst`, keeps fractions of a token between calls, tells how long until
// the next token (rounded up to whole milliseconds, at least 1 ms when empty, 0 when a token is
// there), treats rate 0 as unlimited, and gains nothing when the clock goes backwards.
#include "resolvers/token_bucket.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace ddnswatch::resolvers {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const SteadyTime kT0 = SteadyTime(seconds(1'000'000));

/// Takes tokens at `now` until none is left; returns how many it got.
int drain(TokenBucket& bucket, SteadyTime now) {
  int taken = 0;
  while (bucket.try_take(now)) {
    ++taken;
    if (taken > 1'000'000) break;  // an unlimited bucket would never stop
  }
  return taken;
}

TEST(TokenBucketTest, StartsFullAtBurst) {
  TokenBucket bucket(10, 5, kT0);
  EXPECT_FALSE(bucket.unlimited());
  EXPECT_EQ(bucket.wait_time(kT0), Duration::zero());
  EXPECT_EQ(drain(bucket, kT0), 5);
  EXPECT_FALSE(bucket.try_take(kT0));
}

TEST(TokenBucketTest, BurstBelowOneHoldsOneToken) {
  for (double burst : {0.0, 0.5, -3.0}) {
    TokenBucket bucket(10, burst, kT0);
    EXPECT_EQ(drain(bucket, kT0), 1) << "burst " << burst;
  }
}

TEST(TokenBucketTest, RefillsAtRate) {
  TokenBucket bucket(10, 5, kT0);
  ASSERT_EQ(drain(bucket, kT0), 5);
  EXPECT_FALSE(bucket.try_take(kT0 + milliseconds(99)));
  EXPECT_TRUE(bucket.try_take(kT0 + milliseconds(100)));
  EXPECT_FALSE(bucket.try_take(kT0 + milliseconds(100)));
  // 350 ms after the start: 3.5 tokens made, one taken, so two more and half a token left.
  EXPECT_EQ(drain(bucket, kT0 + milliseconds(350)), 2);
  EXPECT_TRUE(bucket.try_take(kT0 + milliseconds(400)));
}

TEST(TokenBucketTest, KeepsFractionsOfATokenAcrossCalls) {
  TokenBucket bucket(10, 1, kT0);
  ASSERT_TRUE(bucket.try_take(kT0));
  // Asked every 25 ms: the quarters add up to a token at 100 ms, not before.
  EXPECT_FALSE(bucket.try_take(kT0 + milliseconds(25)));
  EXPECT_FALSE(bucket.try_take(kT0 + milliseconds(50)));
  EXPECT_FALSE(bucket.try_take(kT0 + milliseconds(75)));
  EXPECT_TRUE(bucket.try_take(kT0 + milliseconds(100)));
  // Taking at 150 ms would need 1.5 tokens' worth since 0; half of it is left after 100 ms.
  EXPECT_FALSE(bucket.try_take(kT0 + milliseconds(150)));
  EXPECT_TRUE(bucket.try_take(kT0 + milliseconds(200)));
}

TEST(TokenBucketTest, NeverAboveBurst) {
  TokenBucket bucket(10, 3, kT0);
  ASSERT_EQ(drain(bucket, kT0), 3);
  EXPECT_EQ(drain(bucket, kT0 + std::chrono::hours(24)), 3);
  // A full bucket that waits stays full: no credit beyond the burst.
  TokenBucket idle(100, 2, kT0);
  EXPECT_EQ(idle.wait_time(kT0 + seconds(60)), Duration::zero());
  EXPECT_EQ(drain(idle, kT0 + seconds(120)), 2);
}

TEST(TokenBucketTest, FractionalRateAndBurst) {
  TokenBucket bucket(0.5, 2.5, kT0);  // one token every two seconds, 2.5 saved up at most
  EXPECT_EQ(drain(bucket, kT0), 2);   // half a token is left
  EXPECT_EQ(bucket.wait_time(kT0), milliseconds(1000));
  EXPECT_TRUE(bucket.try_take(kT0 + seconds(1)));
  EXPECT_EQ(bucket.wait_time(kT0 + seconds(1)), milliseconds(2000));
}

struct WaitCase {
  std::string name;
  double rate;
  double burst;
  int take;            // tokens taken at kT0
  milliseconds after;  // then asked at kT0 + after
  Duration wait;       // expected wait_time
};

void PrintTo(const WaitCase& c, std::ostream* os) { *os << c.name; }

class TokenBucketWaitTest : public ::testing::TestWithParam<WaitCase> {};

TEST_P(TokenBucketWaitTest, WaitTime) {
  const WaitCase& c = GetParam();
  TokenBucket bucket(c.rate, c.burst, kT0);
  for (int i = 0; i < c.take; ++i) ASSERT_TRUE(bucket.try_take(kT0)) << "token " << i;
  EXPECT_EQ(bucket.wait_time(kT0 + c.after), c.wait);
  // Asking does not take a token: the same answer twice.
  EXPECT_EQ(bucket.wait_time(kT0 + c.after), c.wait);
}

INSTANTIATE_TEST_SUITE_P(
    TokenBucketTest, TokenBucketWaitTest,
    ::testing::Values(
        WaitCase{"Full", 10, 5, 0, milliseconds(0), milliseconds(0)},
        WaitCase{"OneLeft", 10, 5, 4, milliseconds(0), milliseconds(0)},
        WaitCase{"EmptyTenPerSecond", 10, 5, 5, milliseconds(0), milliseconds(100)},
        WaitCase{"PartlyRefilled", 10, 5, 5, milliseconds(40), milliseconds(60)},
        WaitCase{"RefilledExactly", 10, 5, 5, milliseconds(100), milliseconds(0)},
        WaitCase{"OnePerSecond", 1, 1, 1, milliseconds(0), milliseconds(1000)},
        WaitCase{"ThirdOfASecondRoundsUp", 3, 1, 1, milliseconds(0), milliseconds(334)},
        WaitCase{"SeventhRoundsUp", 7, 1, 1, milliseconds(0), milliseconds(143)},
        WaitCase{"ThirdPartlyRefilled", 3, 1, 1, milliseconds(100), milliseconds(234)},
        WaitCase{"ExactlyOneMillisecond", 1000, 1, 1, milliseconds(0), milliseconds(1)},
        WaitCase{"SubMillisecondIsOne", 4000, 2, 2, milliseconds(0), milliseconds(1)},
        WaitCase{"MicrosecondsAreOne", 1'000'000, 1, 1, milliseconds(0), milliseconds(1)},
        WaitCase{"SlowRate", 0.1, 1, 1, milliseconds(2500), milliseconds(7500)}),
    [](const ::testing::TestParamInfo<WaitCase>& param_info) { return param_info.param.name; });

TEST(TokenBucketTest, WaitingTheWaitTimeGivesAToken) {
  // For each rate: empty the bucket, wait what it says, and a token is there; a millisecond
  // earlier it is not (whenever the wait is longer than the 1 ms floor).
  for (double rate : {1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 33.0, 50.0, 100.0, 250.0, 999.0, 1000.0,
                      2.5, 0.5, 0.3}) {
    TokenBucket bucket(rate, 1, kT0);
    ASSERT_TRUE(bucket.try_take(kT0));
    const Duration wait = bucket.wait_time(kT0);
    EXPECT_GE(wait, milliseconds(1)) << "rate " << rate;
    if (wait > milliseconds(1)) {
      TokenBucket early(rate, 1, kT0);
      ASSERT_TRUE(early.try_take(kT0));
      EXPECT_FALSE(early.try_take(kT0 + wait - milliseconds(1))) << "rate " << rate;
    }
    EXPECT_TRUE(bucket.try_take(kT0 + wait)) << "rate " << rate << " wait " << wait.count();
  }
}

TEST(TokenBucketTest, RateZeroIsUnlimited) {
  for (double rate : {0.0, -1.0}) {
    TokenBucket bucket(rate, 1, kT0);
    EXPECT_TRUE(bucket.unlimited()) << "rate " << rate;
    for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(bucket.try_take(kT0)) << "query " << i;
    EXPECT_EQ(bucket.wait_time(kT0), Duration::zero());
    // Even with a clock going backwards.
    EXPECT_TRUE(bucket.try_take(kT0 - seconds(5)));
    EXPECT_EQ(bucket.wait_time(kT0 - seconds(5)), Duration::zero());
  }
}

TEST(TokenBucketTest, TimeGoingBackwardsAddsNothing) {
  TokenBucket bucket(10, 100, kT0);
  ASSERT_EQ(drain(bucket, kT0 + seconds(10)), 100);
  // Earlier than the last call: no tokens, and the wait is counted from the latest time seen.
  EXPECT_FALSE(bucket.try_take(kT0 + seconds(5)));
  EXPECT_FALSE(bucket.try_take(kT0));
  EXPECT_EQ(bucket.wait_time(kT0), milliseconds(100));
  // The backward steps did not move the bucket's clock back: 100 ms after the latest time it
  // has one token, not the 51 it would have if it counted from 5 s.
  EXPECT_EQ(drain(bucket, kT0 + seconds(10) + milliseconds(100)), 1);
}

TEST(TokenBucketTest, MicrosecondStepsAddUp) {
  // SteadyTime has nanosecond resolution; many tiny steps add up like one big one.
  TokenBucket bucket(1000, 1, kT0);  // one token per millisecond
  ASSERT_TRUE(bucket.try_take(kT0));
  SteadyTime now = kT0;
  for (int i = 0; i < 999; ++i) {
    now += std::chrono::microseconds(1);
    ASSERT_FALSE(bucket.try_take(now)) << i + 1 << " us";
  }
  EXPECT_EQ(bucket.wait_time(now), milliseconds(1));  // 1 us to go, rounded up
  EXPECT_TRUE(bucket.try_take(now + std::chrono::microseconds(2)));
}

}  // namespace
}  // namespace ddnswatch::resolvers
