// The fixture of the fault tests (resolvers, providers and the state folder failing while the
// daemon runs): the DNS lab and a daemon per test, an HTTP echo as the address detection
// source that the test steers, and readers of what a user sees (/metrics, /status).
#pragma once

#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/http_get.h"
#include "support/lab_fixture.h"
#include "support/metrics_text.h"
#include "support/process.h"
#include "support/receiver.h"

namespace ddnswatch::testing {

class FaultFixture : public LabDaemonFixture {
 protected:
  /// The watched name that shows monitoring goes on: a fixed answer at the lab's fast cache.
  static constexpr const char* kWatchedName = "fixed.ddnswatch.test";

  /// A config that watches kWatchedName every second, detects the address from the echo (at
  /// start, then at every SIGHUP: the shortest detect interval is 10 s) and updates `record`
  /// with `update` settings.
  nlohmann::json updater_config(const nlohmann::json& record, const nlohmann::json& update) const {
    nlohmann::json cfg = config(nlohmann::json::array({{{"name", kWatchedName},
                                                        {"type", "A"},
                                                        {"expect", {"192.0.2.10"}},
                                                        {"resolvers", {"fast"}},
                                                        {"interval", "1s"}}}));
    cfg["detect"] = {{"interval", "10s"},
                     {"allow", {"192.0.2.0/24"}},
                     {"ipv4", {{"sources", {"url:" + echo_.url("/ip") + "#text"}}}}};
    cfg["update"] = update;
    cfg["records"] = nlohmann::json::array({record});
    return cfg;
  }

  /// The echo answers `address` from now on; with a daemon, it detects again at once (SIGHUP).
  void detect(const std::string& address, const Process* daemon = nullptr) {
    echo_.set_fallback({200, "text/plain", address + "\n", {}});
    if (daemon) daemon->signal(SIGHUP);
  }
  void detection_fails() { echo_.set_fallback({503, "text/plain", "down\n", {}}); }

  std::string metrics() const { return http_get(url("/metrics")).body; }
  /// A sample of `text` (a scrape), or -1 when there is none.
  static double value(const std::string& text, const std::string& name,
                      const std::map<std::string, std::string>& labels = {}) {
    return metric_value(text, name, labels).value_or(-1);
  }

  nlohmann::json status() const {
    return nlohmann::json::parse(http_get(url("/status")).body, nullptr, false);
  }
  /// The first record of /status, or an empty object.
  nlohmann::json record_status() const {
    nlohmann::json s = status();
    if (!s.is_object() || !s.contains("records") || s["records"].empty()) {
      return nlohmann::json::object();
    }
    return s["records"][0];
  }

  /// The monitor still checks kWatchedName: a few more cycles, each a match.
  void expect_monitoring_goes_on() const {
    const double first = value(metrics(), "ddnswatch_monitor_last_cycle_timestamp_seconds");
    EXPECT_TRUE(wait_until(
        [&] {
          const std::string m = metrics();
          return value(m, "ddnswatch_monitor_last_cycle_timestamp_seconds") >= first + 2 &&
                 value(m, "ddnswatch_dns_answer_state",
                       {{"name", kWatchedName},
                        {"qtype", "A"},
                        {"resolver", "fast"},
                        {"state", "match"}}) == 1;
        },
        std::chrono::seconds(10)))
        << metrics();
  }

  Receiver echo_{std::vector<std::string>{"/ip"}};
};

}  // namespace ddnswatch::testing
