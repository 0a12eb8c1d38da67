#include "core/duration.h"

#include <gtest/gtest.h>

namespace ddnswatch {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DurationTest, ParsesUnitsAndCombinations) {
  EXPECT_EQ(*parse_duration("30s"), seconds(30));
  EXPECT_EQ(*parse_duration("5m"), minutes(5));
  EXPECT_EQ(*parse_duration("1h"), hours(1));
  EXPECT_EQ(*parse_duration("1h30m"), minutes(90));
  EXPECT_EQ(*parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(*parse_duration("2d"), hours(48));
  EXPECT_EQ(*parse_duration("0s"), milliseconds(0));
}

TEST(DurationTest, RejectsWhatIsNotADuration) {
  for (const char* bad : {"", "30", "s", "30x", "-5s", "5 m", "1.5h", "5M", "99999999999999999999s",
                          "100000000000d100000000000d"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(DurationTest, FormatsInTheLargestExactUnits) {
  EXPECT_EQ(format_duration(seconds(90)), "1m30s");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(format_duration(hours(25)), "1d1h");
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(*parse_duration(format_duration(milliseconds(3723004))), milliseconds(3723004));
}

}  // namespace
}  // namespace ddnswatch
