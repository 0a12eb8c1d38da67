// The propagation monitor in the running daemon, against the DNS lab: BIND as the zone's
// primary, an older authoritative copy, and unbound caches that hold answers for 5, 15 and
// 30 s, answer a foreign address, fail, drop queries, or are not there at all. A record is
// changed with nsupdate and the metrics must tell the story a DNS operator expects.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/atomic_file.h"
#include "support/http_get.h"
#include "support/lab_fixture.h"
#include "support/metrics_text.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

class MonitorTest : public testing::LabDaemonFixture {
 protected:
  void SetUp() override {
    ASSERT_NE(lab_, nullptr) << "the DNS lab did not start:\n" << lab_error_;
  }

  std::string scrape() const { return testing::http_get(url("/metrics")).body; }

  // The verdict the metrics show for a resolver, or "" if none is 1.
  static std::string state(const std::string& metrics, const std::string& name,
                           const std::string& resolver) {
    for (const char* s : {"match", "stale", "foreign", "empty", "nxdomain", "error"}) {
      auto v = testing::metric_value(metrics, "ddnswatch_dns_answer_state",
                                     {{"name", name}, {"resolver", resolver}, {"state", s}});
      if (v && *v == 1) return s;
    }
    return "";
  }
  static double value(const std::string& metrics, const std::string& metric,
                      const std::map<std::string, std::string>& labels) {
    return testing::metric_value(metrics, metric, labels).value_or(-1);
  }
};

// One change of a record, watched at every kind of resolver the lab has.
TEST_F(MonitorTest, RecordChangePropagatesCacheByCacheAsTheirTtlsSay) {
  const std::string name = "host2.ddnswatch.test";
  const std::vector<std::string> caches = {"fast",     "slow15", "slow30", "split",
                                           "servfail", "drop",   "dead"};
  json resolvers = json(caches);
  resolvers.push_back("authoritative");
  auto daemon = start(config(json::array({{{"name", name},
                                           {"type", "A"},
                                           {"expect", "authoritative"},
                                           {"resolvers", resolvers},
                                           {"interval", "2s"},
                                           {"fast_interval", "1s"}}})));

  // Before the change: each resolver in its expected state.
  const std::map<std::string, std::string> before = {{"fast", "match"},
                                                     {"slow15", "match"},
                                                     {"slow30", "match"},
                                                     {"split", "foreign"},
                                                     {"servfail", "error"},
                                                     {"drop", "error"},
                                                     {"dead", "error"},
                                                     {"auth:ns1.ddnswatch.test", "match"},
                                                     {"auth:ns2.ddnswatch.test", "match"}};
  std::string m;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        m = scrape();
        for (const auto& [r, s] : before) {
          if (state(m, name, r) != s) return false;
        }
        return true;
      },
      seconds(15)))
      << m << daemon->err();
  EXPECT_EQ(value(m, "ddnswatch_split_brain", {{"name", name}}), 1);
  // The broken resolvers' outcome classes.
  EXPECT_GE(
      value(m, "ddnswatch_dns_queries_total", {{"resolver", "servfail"}, {"outcome", "servfail"}}),
      1);
  EXPECT_GE(value(m, "ddnswatch_dns_queries_total", {{"resolver", "drop"}, {"outcome", "timeout"}}),
            1);
  EXPECT_GE(value(m, "ddnswatch_dns_queries_total", {{"resolver", "dead"}, {"outcome", "network"}}),
            1);
  EXPECT_EQ(value(m, "ddnswatch_dns_queries_total", {{"resolver", "fast"}, {"outcome", "timeout"}}),
            0)
      << "series exist from the start, so a zero is a zero";
  EXPECT_EQ(
      value(m, "ddnswatch_resolver_info",
            {{"resolver", "slow30"}, {"operator", "lab"}, {"geo", "L3"}, {"protocol", "udp"}}),
      1);

  // The change.
  const auto changed = Clock::now();
  ASSERT_TRUE(lab_->update(name, "A", "192.0.2.99")) << lab_->last_error();

  // Follow each cache: when it is first seen stale with TTL t, it must turn to match about t
  // seconds later (the monitor checks every ~2 s with a 1 s timeout for the dropping cache).
  struct Track {
    std::optional<Clock::time_point> stale_seen;
    double ttl_at_stale = 0;
    std::optional<Clock::time_point> matched;
    double matched_unix = 0;
  };
  std::map<std::string, Track> tracks;
  const std::vector<std::string> followed = {"fast", "slow15", "slow30", "auth:ns1.ddnswatch.test"};
  ASSERT_TRUE(testing::wait_until(
      [&] {
        m = scrape();
        const auto now = Clock::now();
        if (value(m, "ddnswatch_expected_change_timestamp_seconds", {{"name", name}}) <= 0) {
          return false;
        }
        bool all = true;
        for (const auto& r : followed) {
          Track& t = tracks[r];
          const std::string s = state(m, name, r);
          if (s == "stale" && !t.stale_seen) {
            t.stale_seen = now;
            t.ttl_at_stale =
                value(m, "ddnswatch_dns_answer_ttl_seconds", {{"name", name}, {"resolver", r}});
          }
          // A match counts once the monitor expects the new address (the change timestamp
          // moved) — before that, "match" is the old answer.
          if (s == "match" && !t.matched &&
              testing::metric_value(m, "ddnswatch_propagation_lag_seconds",
                                    {{"name", name}, {"resolver", r}})
                      .value_or(-1) >= 0 &&
              (t.stale_seen || r == "fast" || r == "auth:ns1.ddnswatch.test")) {
            t.matched = now;
            t.matched_unix =
                std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                    .count();
          }
          if (!t.matched) all = false;
        }
        return all;
      },
      seconds(45)))
      << m << daemon->err();

  EXPECT_LE(seconds_between(changed, *tracks["auth:ns1.ddnswatch.test"].matched), 4.0)
      << "the primary serves the change at once";
  EXPECT_LE(seconds_between(changed, *tracks["fast"].matched), 5.0 + 4.0)
      << "a 5 s TTL cache follows within its TTL and a check";
  for (const char* slow : {"slow15", "slow30"}) {
    const Track& t = tracks[slow];
    ASSERT_TRUE(t.stale_seen) << slow << " was never seen stale";
    const double predicted = seconds_between(changed, *t.stale_seen) + t.ttl_at_stale;
    const double seen = seconds_between(changed, *t.matched);
    // Tolerance -1.5 s .. +4.5 s: a TTL is whole seconds (the cache may hold up to 1 s more),
    // a check comes every ~2 s (1 s fast interval + 1 s for the dropping cache's timeout),
    // the test scrapes every 20 ms, and a loaded CI machine adds scheduling slack.
    EXPECT_GE(seen, predicted - 1.5) << slow << ": stale with TTL " << t.ttl_at_stale;
    EXPECT_LE(seen, predicted + 4.5) << slow << ": stale with TTL " << t.ttl_at_stale;
    std::printf("%s: stale at +%.1f s with TTL %.0f s, match at +%.1f s (predicted +%.1f s)\n",
                slow, seconds_between(changed, *t.stale_seen), t.ttl_at_stale, seen, predicted);
  }
  EXPECT_GT(seconds_between(changed, *tracks["slow30"].matched),
            seconds_between(changed, *tracks["slow15"].matched))
      << "the cache holding answers for 30 s flips after the one holding them for 15 s";

  // Lag per resolver: from the monitor's change time to each one's first match.
  m = scrape();
  const double lag15 =
      value(m, "ddnswatch_propagation_lag_seconds", {{"name", name}, {"resolver", "slow15"}});
  const double lag30 =
      value(m, "ddnswatch_propagation_lag_seconds", {{"name", name}, {"resolver", "slow30"}});
  // The monitor's clock starts when it sees the change at the primary (its next check).
  const double change_seen =
      value(m, "ddnswatch_expected_change_timestamp_seconds", {{"name", name}});
  EXPECT_NEAR(lag30, tracks["slow30"].matched_unix - change_seen, 2.5);
  EXPECT_LE(change_seen - (tracks["slow30"].matched_unix -
                           seconds_between(changed, *tracks["slow30"].matched)),
            4.5)
      << "the change is seen at the next check (interval 2 s, a check takes up to 1 s)";
  EXPECT_GT(lag30, lag15);

  // After the caches: the lagging authoritative copy (ns2, serial 90) is stale, the split
  // cache still foreign: 4 of 6 answering resolvers match, three distinct answers.
  EXPECT_EQ(state(m, name, "auth:ns2.ddnswatch.test"), "stale");
  EXPECT_EQ(state(m, name, "split"), "foreign");
  EXPECT_NEAR(value(m, "ddnswatch_propagation_ratio", {{"name", name}}), 4.0 / 6.0, 1e-6);
  EXPECT_EQ(value(m, "ddnswatch_dns_answer_groups", {{"name", name}}), 3);
  EXPECT_EQ(value(m, "ddnswatch_split_brain", {{"name", name}}), 1);
  EXPECT_GE(value(m, "ddnswatch_authoritative_serial",
                  {{"zone", "ddnswatch.test"}, {"nameserver", "ns1.ddnswatch.test"}}),
            101);

  // Prometheus asks for gzip: the same text comes back compressed.
  auto zipped = testing::http_get(url("/metrics"), seconds(5), /*gzip=*/true);
  EXPECT_EQ(zipped.headers["content-encoding"], "gzip");
  EXPECT_LT(std::stoul(zipped.headers["content-length"]) * 4, zipped.body.size());
  EXPECT_EQ(testing::http_get(url("/metrics")).headers.count("content-encoding"), 0u);

  // The whole scrape still passes Prometheus's linter.
  auto scraped = dir_.write("scrape.txt", m);
  auto lint = testing::run_command(
      {"/bin/sh", "-c", "promtool check metrics < '" + scraped.string() + "'"}, dir_.path());
  EXPECT_EQ(lint.out + lint.err, "");

  // /status keeps the last events.
  const json status = json::parse(testing::http_get(url("/status")).body);
  std::set<std::string> events;
  for (const auto& e : status["events"]) {
    events.insert(e["event"].get<std::string>() + ":" + e["resolver"].get<std::string>());
  }
  EXPECT_TRUE(events.count("split_brain_began:")) << status["events"].dump();
  EXPECT_TRUE(events.count("resolver_recovered:slow30")) << status["events"].dump();

  // The events were logged once each, as they happened.
  daemon->signal(SIGTERM);
  ASSERT_TRUE(daemon->wait(seconds(5)));
  const std::string log = daemon->err();
  EXPECT_THAT(log, HasSubstr("resolver_foreign at split"));
  EXPECT_THAT(log, HasSubstr("split_brain_began"));
  EXPECT_THAT(log, HasSubstr("expected_changed (answer 192.0.2.99)"));
  EXPECT_THAT(log, HasSubstr("resolver_stale at slow30"));
  EXPECT_THAT(log, HasSubstr("resolver_recovered at slow30"));
}

TEST_F(MonitorTest, AuthoritativeServersAndTheirSerials) {
  const std::string name = "host3.ddnswatch.test";
  auto daemon = start(config(json::array({{{"name", name},
                                           {"type", "A"},
                                           {"expect", "authoritative"},
                                           {"resolvers", {"authoritative"}},
                                           {"interval", "1s"},
                                           {"fast_interval", "1s"}}})));
  const std::map<std::string, std::string> ns1 = {{"zone", "ddnswatch.test"},
                                                  {"nameserver", "ns1.ddnswatch.test"}};
  const std::map<std::string, std::string> ns2 = {{"zone", "ddnswatch.test"},
                                                  {"nameserver", "ns2.ddnswatch.test"}};
  std::string m;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        m = scrape();
        // ns1 starts at 100 (more if another test of this process changed the zone).
        return value(m, "ddnswatch_authoritative_serial", ns1) >= 100 &&
               value(m, "ddnswatch_authoritative_serial", ns2) == 90 &&
               state(m, name, "auth:ns1.ddnswatch.test") == "match" &&
               state(m, name, "auth:ns2.ddnswatch.test") == "match";
      },
      seconds(10)))
      << m << daemon->err();
  EXPECT_EQ(value(m, "ddnswatch_resolver_info",
                  {{"resolver", "auth:ns2.ddnswatch.test"}, {"geo", "authoritative"}}),
            1);

  // Every family of the catalog (DESIGN.md section 5, the parts that exist so far) is there.
  for (const char* family :
       {"ddnswatch_build_info", "ddnswatch_config_last_reload_successful",
        "ddnswatch_config_last_reload_success_timestamp_seconds", "ddnswatch_resolver_info",
        "ddnswatch_dns_query_duration_seconds", "ddnswatch_dns_queries_total",
        "ddnswatch_dns_answer_state", "ddnswatch_dns_answer_ttl_seconds",
        "ddnswatch_dns_answer_groups", "ddnswatch_split_brain", "ddnswatch_propagation_ratio",
        "ddnswatch_propagation_lag_seconds", "ddnswatch_propagation_eta_seconds",
        "ddnswatch_expected_change_timestamp_seconds", "ddnswatch_authoritative_serial",
        "ddnswatch_monitor_cycle_duration_seconds",
        "ddnswatch_monitor_last_cycle_timestamp_seconds"}) {
    EXPECT_THAT(m, HasSubstr(std::string("\n# TYPE ") + family + " ")) << family;
  }

  // Ready after the first check; /status tells the same story as the metrics.
  EXPECT_EQ(testing::http_get(url("/readyz")).status, 200);
  auto status = testing::http_get(url("/status"));
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(status.headers["content-type"], "application/json");
  const json doc = json::parse(status.body);
  ASSERT_EQ(doc["names"].size(), 1u);
  const json& entry = doc["names"][0];
  EXPECT_EQ(entry["name"], name);
  EXPECT_EQ(entry["expect"], "authoritative");
  EXPECT_EQ(entry["expected"], json({"192.0.2.1"}));
  std::map<std::string, std::string> verdicts;
  for (const auto& r : entry["resolvers"]) {
    verdicts[r["resolver"].get<std::string>()] = r["verdict"].get<std::string>();
    EXPECT_EQ(r["answer"], json({"192.0.2.1"}));
    EXPECT_GE(r["latency_ms"].get<double>(), 0);
  }
  EXPECT_EQ(verdicts["auth:ns1.ddnswatch.test"], "match");
  EXPECT_EQ(verdicts["auth:ns2.ddnswatch.test"], "match");

  const double serial = value(m, "ddnswatch_authoritative_serial", ns1);
  ASSERT_TRUE(lab_->update(name, "A", "192.0.2.77")) << lab_->last_error();
  ASSERT_TRUE(testing::wait_until(
      [&] {
        m = scrape();
        return value(m, "ddnswatch_authoritative_serial", ns1) == serial + 1 &&
               value(m, "ddnswatch_authoritative_serial", ns2) == 90 &&
               state(m, name, "auth:ns1.ddnswatch.test") == "match" &&
               state(m, name, "auth:ns2.ddnswatch.test") == "stale";
      },
      seconds(10)))
      << m << daemon->err();
  EXPECT_EQ(value(m, "ddnswatch_propagation_ratio", {{"name", name}}), 0.5);
  EXPECT_EQ(value(m, "ddnswatch_split_brain", {{"name", name}}), 0)
      << "a secondary behind its primary is lag, not split-brain";
}

TEST_F(MonitorTest, FixedExpectationKeepsItsHistoryAcrossReloadAndRestart) {
  const std::string name = "host4.ddnswatch.test";
  auto watch = [&](const char* expected) {
    return json::array({{{"name", name},
                         {"type", "A"},
                         {"expect", {expected}},
                         {"resolvers", {"fast", "split"}},
                         {"interval", "1s"}}});
  };
  auto daemon = start(config(watch("192.0.2.1")));
  std::string m;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        m = scrape();
        return state(m, name, "fast") == "match" && state(m, name, "split") == "foreign";
      },
      seconds(10)))
      << m << daemon->err();

  // The operator moves the name: the old address is now stale, not foreign.
  ASSERT_TRUE(write_file_atomically(config_path_, config(watch("192.0.2.50")).dump()));
  daemon->signal(SIGHUP);
  ASSERT_TRUE(
      testing::wait_until([&] { return state(scrape(), name, "fast") == "stale"; }, seconds(10)))
      << daemon->err();

  // After a restart the history is still there (state.json), so still stale.
  daemon->signal(SIGTERM);
  ASSERT_TRUE(daemon->wait(seconds(5)));
  auto saved = read_file(dir_.path() / "state" / "state.json");
  ASSERT_TRUE(saved);
  auto doc = json::parse(*saved);
  const json& entry = doc["data"]["monitor"][name + "/A"];
  EXPECT_EQ(entry["expected"], json({"192.0.2.50"}));
  EXPECT_EQ(entry["history"], json::array({json({"192.0.2.1"})}));

  daemon = start(config(watch("192.0.2.50")));
  ASSERT_TRUE(
      testing::wait_until([&] { return state(scrape(), name, "fast") == "stale"; }, seconds(10)))
      << daemon->err();
}

TEST_F(MonitorTest, ReloadRemovesTheSeriesOfNamesNoLongerWatched) {
  auto watch = [&](std::vector<std::string> names) {
    json list = json::array();
    for (const auto& n : names) {
      list.push_back({{"name", n},
                      {"type", "A"},
                      {"expect", {"192.0.2.1"}},
                      {"resolvers", {"fast"}},
                      {"interval", "1s"}});
    }
    return list;
  };
  auto daemon = start(config(watch({"host5.ddnswatch.test", "host6.ddnswatch.test"})));
  ASSERT_TRUE(testing::wait_until(
      [&] { return state(scrape(), "host6.ddnswatch.test", "fast") == "match"; }, seconds(10)));
  ASSERT_TRUE(write_file_atomically(config_path_, config(watch({"host5.ddnswatch.test"})).dump()));
  daemon->signal(SIGHUP);
  ASSERT_TRUE(testing::wait_until(
      [&] {
        const std::string m = scrape();
        return m.find("host6.ddnswatch.test") == std::string::npos &&
               state(m, "host5.ddnswatch.test", "fast") == "match";
      },
      seconds(10)))
      << scrape();
}

}  // namespace
}  // namespace ddnswatch
