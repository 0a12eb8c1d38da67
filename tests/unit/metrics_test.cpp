#include "exporters/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ddnswatch::exporters {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, ExportsBuildInfoAndReloadState) {
  Metrics m(BuildInfo{"1.2.3", "abc123"});
  std::string text = m.render();
  EXPECT_THAT(text, HasSubstr("ddnswatch_build_info{revision=\"abc123\",version=\"1.2.3\"} 1"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_config_last_reload_successful 0"));

  WallTime t{std::chrono::seconds(1700000000)};
  m.config_loaded(true, t);
  text = m.render();
  EXPECT_THAT(text, HasSubstr("ddnswatch_config_last_reload_successful 1"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_config_last_reload_success_timestamp_seconds 1700000000"));

  // A rejected reload flips the flag and keeps the time of the last success.
  m.config_loaded(false, t + std::chrono::seconds(60));
  text = m.render();
  EXPECT_THAT(text, HasSubstr("ddnswatch_config_last_reload_successful 0"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_config_last_reload_success_timestamp_seconds 1700000000"));
}

TEST(MetricsTest, StateWritesCountFailuresAndKeepTheLastSuccess) {
  Metrics m(BuildInfo{"1.2.3", "abc123"});
  std::string text = m.render();
  EXPECT_THAT(text, HasSubstr("ddnswatch_state_write_errors_total 0"));

  WallTime t{std::chrono::seconds(1700000000)};
  m.state_saved(true, t);
  text = m.render();
  EXPECT_THAT(text, HasSubstr("ddnswatch_state_last_write_successful 1"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_state_last_write_success_timestamp_seconds 1700000000"));

  // Two failed saves (a full folder): counted, and the flag says so until the next success.
  m.state_saved(false, t + std::chrono::seconds(5));
  m.state_saved(false, t + std::chrono::seconds(10));
  text = m.render();
  EXPECT_THAT(text, HasSubstr("ddnswatch_state_last_write_successful 0"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_state_write_errors_total 2"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_state_last_write_success_timestamp_seconds 1700000000"));

  m.state_saved(true, t + std::chrono::seconds(15));
  text = m.render();
  EXPECT_THAT(text, HasSubstr("ddnswatch_state_last_write_successful 1"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_state_write_errors_total 2"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_state_last_write_success_timestamp_seconds 1700000015"));
}

}  // namespace
}  // namespace ddnswatch::exporters
