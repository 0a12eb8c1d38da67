// The whole product on the full lab of `make demo` (tests/lab/lab.sh start DIR --full): the
// daemon runs on the lab's own config (DIR/ddnswatch.json), the public address reported by
// the echo service flips, and the test watches each step happen, with the time it was first
// seen: the detection by quorum, the RFC 2136 update at BIND (and the PowerDNS API update),
// the new serial at both authoritative servers, each cache going stale and matching when its
// copy expires (the lag metric agreeing with the TTL the cache reported), the split-brain
// resolver staying foreign, Prometheus's alerts for the change and the foreign answer reaching
// the webhook receiver through Alertmanager, the propagation ratio reaching its final value
// and the propagation_complete event. The alert rules run with every `for:` at 0s.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/http_get.h"
#include "support/lab.h"
#include "support/metrics_text.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr char kNewIp[] = "203.0.113.20";
// The caches that follow the change, with the cache-min-ttl of the lab (fast: the record's 5 s).
const std::map<std::string, double> kCaches = {{"fast", 5}, {"slow15", 15}, {"slow30", 30}};
// home.ddnswatch.test is answered by fast, slow15, slow30, split (foreign) and both
// authoritative servers; servfail, drop and dead give no answer. Once the caches have the
// change, 5 of the 6 answering resolvers match.
constexpr double kFinalRatio = 5.0 / 6.0;

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<json> read_json_lines(const std::filesystem::path& path) {
  std::vector<json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_object()) lines.push_back(std::move(doc));
  }
  return lines;
}

// A firing alert named `alertname` that Alertmanager delivered to the receiver and that came
// from Prometheus (it has the scrape's job label; alerts ddnswatch pushes itself have none).
bool alertmanager_delivered(const std::vector<json>& hooks, const std::string& alertname) {
  for (const json& h : hooks) {
    if (h.value("path", "") != "/alertmanager" || !h["body"].is_object()) continue;
    for (const json& a : h["body"].value("alerts", json::array())) {
      const json& labels = a["labels"];
      if (a.value("status", "") == "firing" && labels.value("alertname", "") == alertname &&
          labels.value("job", "") == "ddnswatch") {
        return true;
      }
    }
  }
  return false;
}

bool event_delivered(const std::vector<json>& hooks, const std::string& event,
                     const std::string& name) {
  for (const json& h : hooks) {
    if (h.value("path", "") != "/ddnswatch" || !h["body"].is_object()) continue;
    const json& body = h["body"];
    if (body.value("event", "") != event) continue;
    if (name.empty() || (body.contains("name") && body["name"] == name)) return true;
  }
  return false;
}

const json* find_by(const json& array, const std::string& key, const std::string& value) {
  if (!array.is_array()) return nullptr;
  for (const json& item : array) {
    if (item.is_object() && item.value(key, "") == value) return &item;
  }
  return nullptr;
}

// Times (unix seconds) at which the test first saw each step.
class Timeline {
 public:
  void see(const std::string& step, bool condition, double now) {
    if (condition && !times_.count(step)) {
      times_[step] = now;
      order_.push_back(step);
    }
  }
  bool seen(const std::string& step) const { return times_.count(step) != 0; }
  std::optional<double> at(const std::string& step) const {
    auto it = times_.find(step);
    if (it == times_.end()) return std::nullopt;
    return it->second;
  }
  std::string report(double origin) const {
    std::string text;
    char line[160];
    for (const auto& step : order_) {
      std::snprintf(line, sizeof line, "  %+7.2f s  %s\n", times_.at(step) - origin, step.c_str());
      text += line;
    }
    return text;
  }

 private:
  std::map<std::string, double> times_;
  std::vector<std::string> order_;
};

TEST(E2eTest, AnAddressFlipIsDetectedWrittenPropagatedAlertedAndCompleted) {
  const double test_started = unix_now();
  testing::TempDir dir;
  std::string lab_error;
  auto lab = testing::Lab::start(dir.path(), &lab_error, {"--full", "--alert-for", "0s"});
  ASSERT_NE(lab, nullptr) << "the full lab did not start:\n" << lab_error;
  const std::string name = lab->get("LAB_HOME_NAME");
  const std::string pdns_name = lab->get("LAB_PDNS_HOME_NAME");
  const std::string old_ip = lab->get("LAB_INITIAL_IP");
  const std::string daemon_url = lab->get("LAB_DDNSWATCH");
  const std::string prometheus = lab->get("LAB_PROMETHEUS");
  const std::filesystem::path hook_log = lab->get("LAB_WEBHOOK_LOG");

  testing::Process daemon({DDNSWATCH_BINARY, "run", "--config", lab->get("LAB_DDNSWATCH_CONFIG")},
                          dir.path());
  auto metrics = [&] { return testing::http_get(daemon_url + "/metrics").body; };
  auto status = [&] {
    return json::parse(testing::http_get(daemon_url + "/status").body, nullptr, false);
  };
  auto metric = [](const std::string& text, const std::string& metric_name,
                   const std::map<std::string, std::string>& labels) {
    return testing::metric_value(text, metric_name, labels).value_or(-1);
  };

  // Before the flip: both records in sync at the first address, the caches matching it, the
  // split resolver foreign, and Prometheus holding a sample of the change counter at 0 (so
  // that increase() sees the change).
  json s;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        s = status();
        if (!s.is_object()) return false;
        const json* entry = find_by(s["names"], "name", name);
        if (entry == nullptr || (*entry)["expected"] != json({old_ip})) return false;
        for (const auto& [cache, ttl] : kCaches) {
          const json* row = find_by((*entry)["resolvers"], "resolver", cache);
          if (row == nullptr || (*row)["verdict"] != "match") return false;
        }
        const json* split = find_by((*entry)["resolvers"], "resolver", "split");
        if (split == nullptr || (*split)["verdict"] != "foreign") return false;
        int in_sync = 0;
        for (const json& r : s.value("records", json::array())) {
          if (r.value("state", "") == "in_sync") ++in_sync;
        }
        return in_sync == 2;
      },
      seconds(20)))
      << s.dump(2) << daemon.err();
  const std::string changes_query = "ddnswatch_public_ip_changes_total";
  ASSERT_TRUE(testing::wait_until(
      [&] {
        auto r = testing::http_get(prometheus + "/api/v1/query?query=" + changes_query);
        json doc = json::parse(r.body, nullptr, false);
        return doc.is_object() &&
               !doc.value(json::json_pointer("/data/result"), json::array()).empty();
      },
      seconds(20)))
      << "Prometheus never scraped the daemon";
  std::string m = metrics();
  const double serial_before =
      metric(m, "ddnswatch_authoritative_serial", {{"nameserver", "ns1.ddnswatch.test"}});
  ASSERT_GT(serial_before, 0) << m;
  EXPECT_EQ(metric(m, "ddnswatch_ip_sources_agreeing", {{"family", "ipv4"}}), 3);

  // The flip.
  const double flipped = unix_now();
  ASSERT_TRUE(lab->set_ip(kNewIp)) << lab->last_error();

  Timeline t;
  std::map<std::string, double> stale_ttl;  // the TTL a cache reported when first seen stale
  std::vector<std::string> split_answers;   // anything the split resolver said but foreign
  double expected_changed_at = 0;           // the monitor's time of the change
  std::map<std::string, double> lag;        // per cache, once it matches
  auto all_seen = [&] {
    for (const char* step :
         {"ip detected by quorum", "BIND updated (RFC 2136)", "PowerDNS updated (API)",
          "new serial at ns1", "new serial at ns2", "expected answer changed", "fast matches",
          "slow15 matches", "slow30 matches", "alert DdnswatchPublicIpChanged at the webhook",
          "alert DdnswatchResolverForeignAnswer at the webhook", "propagation ratio 5/6",
          "propagation_complete at the webhook"}) {
      if (!t.seen(step)) return false;
    }
    return true;
  };
  // Deadline: detection (10 s interval) + the longest cache (30 s) + margin.
  const bool everything = testing::wait_until(
      [&] {
        const double now = unix_now();
        const std::string text = metrics();
        t.see("ip detected by quorum",
              metric(text, "ddnswatch_public_ip_info", {{"family", "ipv4"}, {"address", kNewIp}}) ==
                  1,
              now);
        t.see(
            "BIND updated (RFC 2136)",
            metric(text, "ddnswatch_record_updates_total",
                   {{"record", name + "/A"}, {"provider", "rfc2136"}, {"outcome", "updated"}}) >= 1,
            now);
        t.see("PowerDNS updated (API)",
              metric(text, "ddnswatch_record_updates_total",
                     {{"record", pdns_name + "/A"},
                      {"provider", "powerdns"},
                      {"outcome", "updated"}}) >= 1,
              now);
        for (const char* ns : {"ns1", "ns2"}) {
          t.see(std::string("new serial at ") + ns,
                metric(text, "ddnswatch_authoritative_serial",
                       {{"nameserver", std::string(ns) + ".ddnswatch.test"}}) > serial_before,
                now);
        }
        t.see("propagation ratio 5/6",
              t.seen("expected answer changed") &&
                  std::abs(metric(text, "ddnswatch_propagation_ratio", {{"name", name}}) -
                           kFinalRatio) < 1e-6,
              now);
        // The monitor's time of the change is published with the first check after it;
        // verdicts count from then on (until then /status shows the rows of the last check,
        // judged against the old address).
        const double changed_at =
            metric(text, "ddnswatch_expected_change_timestamp_seconds", {{"name", name}});
        if (changed_at > flipped && !t.seen("expected answer changed")) {
          t.see("expected answer changed", true, now);
          expected_changed_at = changed_at;
        }
        const json st = status();
        if (const json* entry = st.is_object() ? find_by(st["names"], "name", name) : nullptr) {
          for (const auto& [cache, ttl] : kCaches) {
            const json* row = find_by((*entry)["resolvers"], "resolver", cache);
            if (row == nullptr || !t.seen("expected answer changed")) continue;
            const std::string verdict = (*row)["verdict"].get<std::string>();
            if (verdict == "stale" && (*row)["answer"] == json({old_ip}) &&
                !t.seen(cache + " stale")) {
              t.see(cache + " stale", true, now);
              stale_ttl[cache] = (*row)["ttl"].get<double>();
            }
            if (verdict == "match" && (*row)["answer"] == json({kNewIp}) &&
                !t.seen(cache + " matches")) {
              t.see(cache + " matches", true, now);
              lag[cache] =
                  (*row)["lag_seconds"].is_number() ? (*row)["lag_seconds"].get<double>() : -1;
            }
          }
          const json* split = find_by((*entry)["resolvers"], "resolver", "split");
          if (split != nullptr && (*split)["verdict"] != "foreign") {
            split_answers.push_back((*split).dump());
          }
        }
        const auto hooks = read_json_lines(hook_log);
        t.see("alert DdnswatchResolverForeignAnswer at the webhook",
              alertmanager_delivered(hooks, "DdnswatchResolverForeignAnswer"), now);
        t.see("alert DdnswatchPublicIpChanged at the webhook",
              alertmanager_delivered(hooks, "DdnswatchPublicIpChanged"), now);
        t.see("propagation_complete at the webhook",
              event_delivered(hooks, "propagation_complete", name), now);
        return all_seen();
      },
      seconds(55));
  const std::string timeline = t.report(flipped);
  std::printf("timeline (seconds after the flip; the test started %.2f s before it):\n%s",
              flipped - test_started, timeline.c_str());
  ASSERT_TRUE(everything) << "not every step happened; seen:\n" << timeline << daemon.err();

  // The order of events a user would expect.
  EXPECT_LE(*t.at("ip detected by quorum"), *t.at("BIND updated (RFC 2136)") + 0.5);
  EXPECT_LE(*t.at("BIND updated (RFC 2136)"), *t.at("expected answer changed") + 0.5);
  EXPECT_LE(*t.at("slow30 matches"), *t.at("propagation_complete at the webhook") + 0.5);
  EXPECT_LE(*t.at("ip detected by quorum") - flipped, 12) << "detection runs every 10 s";

  // The providers hold the new address.
  auto dig_short = [&](const std::string& server, const std::string& qname) {
    auto r = lab->dig({"@" + server, "-p", lab->get("LAB_AUTH_PORT"), qname, "A", "+short"});
    std::string out = r.out;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  };
  EXPECT_EQ(dig_short(lab->get("LAB_AUTH1"), name), kNewIp);
  EXPECT_EQ(dig_short(lab->get("LAB_AUTH2"), name), kNewIp) << "the secondary follows";
  EXPECT_EQ(dig_short(lab->get("LAB_PDNS"), pdns_name), kNewIp);

  // Each cache matched when the copy it held expired: at the time it was seen stale plus the
  // TTL it reported then, counted from the monitor's time of the change. TTLs are whole
  // seconds, the test reads /status up to a sweep after the answer came, and a sweep waits for
  // the black hole's 1 s timeout before the next starts a second later (fast_interval), hence
  // the tolerance.
  ASSERT_GT(expected_changed_at, 0);
  for (const auto& [cache, min_ttl] : kCaches) {
    ASSERT_TRUE(lag.count(cache)) << cache;
    EXPECT_GE(lag[cache], 0) << cache;
    EXPECT_LE(lag[cache], min_ttl + 5) << cache << " held the old answer longer than its TTL";
    if (stale_ttl.count(cache)) {
      const double predicted = *t.at(cache + " stale") + stale_ttl[cache] - expected_changed_at;
      EXPECT_GE(lag[cache], predicted - 3) << cache;
      EXPECT_LE(lag[cache], predicted + 5)
          << cache << " was seen stale with TTL " << stale_ttl[cache] << " at "
          << *t.at(cache + " stale") - expected_changed_at << " s after the change";
    }
    std::printf("  %-7s lag %5.1f s (cache-min-ttl %2.0f s, TTL when first seen stale: %s)\n",
                cache.c_str(), lag[cache], min_ttl,
                stale_ttl.count(cache) ? std::to_string(stale_ttl[cache]).c_str() : "never stale");
  }
  EXPECT_TRUE(stale_ttl.count("slow30")) << "slow30 holds the old answer for up to 30 s";
  std::printf("  expected answer changed %.2f s after the flip\n", expected_changed_at - flipped);

  // The split-brain resolver stayed foreign throughout, and split-brain is reported.
  EXPECT_THAT(split_answers, ::testing::IsEmpty());
  m = metrics();
  EXPECT_EQ(metric(m, "ddnswatch_split_brain", {{"name", name}}), 1);
  EXPECT_EQ(metric(m, "ddnswatch_dns_answer_state",
                   {{"name", name}, {"resolver", "split"}, {"state", "foreign"}}),
            1);
  EXPECT_EQ(metric(m, "ddnswatch_public_ip_changes_total", {{"family", "ipv4"}}), 1);
  // The PowerDNS name: fast, slow15, slow30, its one nameserver match; split is foreign.
  ASSERT_TRUE(testing::wait_until(
      [&] {
        m = metrics();
        return std::abs(metric(m, "ddnswatch_propagation_ratio", {{"name", pdns_name}}) - 0.8) <
               1e-6;
      },
      seconds(5)))
      << m;
  // The ddnswatch webhook got the rest of the story too, and no secret went anywhere.
  const auto hooks = read_json_lines(hook_log);
  EXPECT_TRUE(event_delivered(hooks, "ip_changed", ""));
  EXPECT_TRUE(event_delivered(hooks, "expected_changed", name));
  EXPECT_TRUE(event_delivered(hooks, "resolver_stale", name));
  std::ifstream log_in(hook_log);
  std::stringstream log_text;
  log_text << log_in.rdbuf();
  for (const char* secret : {"LAB_KEY_SECRET", "LAB_PDNS_API_KEY"}) {
    const std::string value = lab->get(secret);
    EXPECT_EQ(log_text.str().find(value), std::string::npos) << secret;
    EXPECT_EQ(m.find(value), std::string::npos) << secret;
    EXPECT_EQ(daemon.err().find(value), std::string::npos) << secret;
  }

  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(seconds(10)).value_or(-1), 0) << daemon.err();
  std::printf("total run time %.1f s\n", unix_now() - test_started);
}

}  // namespace
}  // namespace ddnswatch
