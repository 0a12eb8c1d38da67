#include "core/logging.h"

#include <gtest/gtest.h>

namespace ddnswatch {
namespace {

TEST(LoggingTest, JsonEscapeKeepsEveryLineOneValidString) {
  EXPECT_EQ(json_escape("plain"), "plain");
  EXPECT_EQ(json_escape("a \"quoted\" \\ path"), "a \\\"quoted\\\" \\\\ path");
  EXPECT_EQ(json_escape("two\nlines\ttab"), "two\\nlines\\ttab");
  EXPECT_EQ(json_escape(std::string("\x01", 1)), "\\u0001");
}

TEST(LoggingTest, RejectsUnknownLevelsAndFormats) {
  EXPECT_FALSE(setup_logging(LogOptions{LogFormat::kText, "loud"}).has_value());
  EXPECT_TRUE(setup_logging(LogOptions{LogFormat::kText, "off"}).has_value());
  EXPECT_TRUE(setup_logging(LogOptions{LogFormat::kJson, "warn"}).has_value());
  EXPECT_EQ(*parse_log_format("json"), LogFormat::kJson);
  EXPECT_FALSE(parse_log_format("yaml").has_value());
}

}  // namespace
}  // namespace ddnswatch
