#include "exporters/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace ddnswatch::exporters {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

NameReport report(const std::string& name, double ratio, double ttl) {
  NameReport r;
  r.name = name;
  r.qtype = "A";
  r.answers = {{"r1", "match", ttl, 1.5}, {"r2", "stale", ttl, std::nullopt}};
  r.answer_groups = 2;
  r.propagation_ratio = ratio;
  return r;
}

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

TEST(MetricsTest, WritesTheTextFormatThatPrometheusReads) {
  Metrics m(BuildInfo{"1.2.3", "abc123"});
  // A family without series is left out rather than shown as a bare HELP and TYPE.
  EXPECT_THAT(m.render(), Not(HasSubstr("ddnswatch_authoritative_serial")));

  // Label values are escaped: a backslash, a double quote and a line feed.
  m.monitor_configured({{"r1", "192.0.2.1:53", "Say \"hi\"", "a\\b\nc", "udp"},
                        {"r2", "192.0.2.2:53", "", "", "udp"}},
                       {{"www.example.com.", "A", {"r1", "r2"}}});
  m.dns_query_done("r1", "noerror", 3ms);
  m.dns_query_done("r1", "noerror", 30ms);
  m.name_checked(report("www.example.com.", 0.5, 300));
  m.authoritative_serial("example.com.", "ns1.example.com.", 2026112401);
  const std::string text = m.render();

  EXPECT_THAT(text, HasSubstr("# HELP ddnswatch_split_brain 1 when a resolver answers"));
  EXPECT_THAT(text, HasSubstr("# TYPE ddnswatch_dns_queries_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE ddnswatch_dns_query_duration_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_resolver_info{address=\"192.0.2.1:53\",geo=\"a\\\\b\\nc\","
                              "operator=\"Say \\\"hi\\\"\",protocol=\"udp\",resolver=\"r1\"} 1\n"));
  // A histogram: cumulative buckets, +Inf, the sum and the count.
  EXPECT_THAT(
      text,
      HasSubstr("ddnswatch_dns_query_duration_seconds_bucket{resolver=\"r1\",le=\"0.0025\"} 0\n"
                "ddnswatch_dns_query_duration_seconds_bucket{resolver=\"r1\",le=\"0.005\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("ddnswatch_dns_query_duration_seconds_bucket{resolver=\"r1\",le=\"0.05\"} 2\n"));
  EXPECT_THAT(
      text, HasSubstr("ddnswatch_dns_query_duration_seconds_bucket{resolver=\"r1\",le=\"+Inf\"} 2\n"
                      "ddnswatch_dns_query_duration_seconds_sum{resolver=\"r1\"} 0.033\n"
                      "ddnswatch_dns_query_duration_seconds_count{resolver=\"r1\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("ddnswatch_dns_queries_total{outcome=\"noerror\",resolver=\"r1\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("ddnswatch_dns_queries_total{outcome=\"timeout\",resolver=\"r2\"} 0\n"));
  // Values: whole numbers as integers, others as the shortest text of the same double.
  EXPECT_THAT(text, HasSubstr("ddnswatch_authoritative_serial{nameserver=\"ns1.example.com.\",zone="
                              "\"example.com.\"} 2026112401\n"));
  EXPECT_THAT(
      text, HasSubstr("ddnswatch_propagation_ratio{name=\"www.example.com.\",qtype=\"A\"} 0.5\n"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_propagation_lag_seconds{name=\"www.example.com.\",qtype="
                              "\"A\",resolver=\"r1\"} 1.5\n"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_dns_answer_state{name=\"www.example.com.\",qtype=\"A\","
                              "resolver=\"r2\",state=\"stale\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("ddnswatch_dns_answer_ttl_seconds{name=\"www.example.com.\",qtype="
                              "\"A\",resolver=\"r2\"} 300\n"));
  m.name_checked(report("www.example.com.", 2.0 / 3, 1e20));
  EXPECT_THAT(m.render(), HasSubstr("ddnswatch_propagation_ratio{name=\"www.example.com.\",qtype="
                                    "\"A\"} 0.6666666666666666\n"));
  EXPECT_THAT(m.render(), HasSubstr("ddnswatch_dns_answer_ttl_seconds{name=\"www.example.com.\","
                                    "qtype=\"A\",resolver=\"r2\"} 1e+20\n"));

  // A reload with the same resolvers keeps their series as they are: the escaped labels read
  // back as the values they were made from.
  m.monitor_configured({{"r1", "192.0.2.1:53", "Say \"hi\"", "a\\b\nc", "udp"},
                        {"r2", "192.0.2.2:53", "", "", "udp"}},
                       {{"www.example.com.", "A", {"r1", "r2"}}});
  const std::string reloaded = m.render();
  size_t infos = 0;
  for (size_t at = 0; (at = reloaded.find("\nddnswatch_resolver_info{", at)) != std::string::npos;
       ++at) {
    ++infos;
  }
  EXPECT_EQ(infos, 2U);
  EXPECT_THAT(reloaded,
              HasSubstr("ddnswatch_dns_queries_total{outcome=\"noerror\",resolver=\"r1\"} 2\n"));

  // Every line is a comment or ends in a newline; one HELP and one TYPE per family.
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  size_t helps = 0;
  size_t types = 0;
  for (size_t at = 0; (at = text.find("# HELP ", at)) != std::string::npos; ++at) ++helps;
  for (size_t at = 0; (at = text.find("# TYPE ", at)) != std::string::npos; ++at) ++types;
  EXPECT_EQ(helps, types);
}

// The HTTP server's thread scrapes while the loop thread reconfigures and reports: the
// series maps change under the scrape. Run under TSan by make test-tsan.
TEST(MetricsTest, ScrapesWhileTheLoopThreadChangesTheSeries) {
  Metrics m(BuildInfo{"1.2.3", "abc123"});
  std::atomic<bool> stop{false};
  std::atomic<int> scrapes{0};
  std::thread scraper([&] {
    while (!stop.load()) {
      const std::string text = m.render();
      if (text.find("ddnswatch_build_info") == std::string::npos) break;
      scrapes.fetch_add(1);
    }
  });
  const std::vector<ResolverInfo> resolvers = {{"r1", "192.0.2.1:53", "", "", "udp"},
                                               {"r2", "192.0.2.2:53", "", "", "udp"}};
  for (int i = 0; i < 300 || scrapes.load() < 3; ++i) {
    // Appended, not "n" + ...: mingw's g++ 12 at -O3 warns (-Wrestrict) on that form here.
    std::string name = "n";
    name += std::to_string(i % 7);
    name += ".example.com.";
    m.monitor_configured(resolvers, {{name, "A", {"r1", "r2"}}});
    m.dns_query_done("r1", "noerror", 1ms);
    m.name_checked(report(name, 0.5, 60));
    m.resolver_discovered({"auth:ns1", "192.0.2.53:53", "", "", "udp"});
    m.resolver_removed("auth:ns1");
    if (i > 100000) break;
  }
  stop = true;
  scraper.join();
  EXPECT_GE(scrapes.load(), 3);
  // The last configuration is what the scrape shows.
  const std::string text = m.render();
  EXPECT_THAT(text, Not(HasSubstr("auth:ns1")));
}

}  // namespace
}  // namespace ddnswatch::exporters
