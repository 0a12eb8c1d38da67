// The whole daemon as a DDNS updater against the lab's BIND: a trusted address (a static
// source) is written with an RFC 2136 update signed with the lab's TSIG key, the monitor then
// expects the new record ("expect": "record") and tracks it at the caches and the
// authoritative servers, /metrics and /status tell the record's state, a new address is
// written again, and a restart neither forgets nor repeats anything.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <string>

#include "support/http_get.h"
#include "support/lab_fixture.h"
#include "support/metrics_text.h"
#include "support/process.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using ::testing::HasSubstr;

class UpdaterE2eTest : public testing::LabDaemonFixture {
 protected:
  json updater_config(const std::string& name, const std::string& address) const {
    json cfg = config(json::array({{{"name", name},
                                    {"type", "A"},
                                    {"expect", "record"},
                                    {"resolvers", {"fast", "authoritative"}},
                                    {"interval", "1s"},
                                    {"fast_interval", "1s"}}}));
    cfg["detect"] = {{"interval", "10s"},
                     {"allow", {"192.0.2.0/24"}},
                     {"ipv4", {{"sources", {"static:" + address}}}}};
    cfg["update"] = {{"min_interval", "1s"}, {"cooldown", "0s"}};
    cfg["records"] = json::array({lab_->rfc2136_record(name)});
    return cfg;
  }

  std::string at_auth1(const std::string& name) const {
    auto r = lab_->dig(
        {"@127.0.0.1", "-p", std::to_string(lab_->auth_port()), name, "A", "+short", "+norecurse"});
    std::string out = r.out;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

  std::string serial() const {
    auto r = lab_->dig({"@127.0.0.1", "-p", std::to_string(lab_->auth_port()), "ddnswatch.test",
                        "SOA", "+short", "+norecurse"});
    std::istringstream in(r.out);
    std::string mname, rname, s;
    in >> mname >> rname >> s;
    return s;
  }

  json status() const {
    return json::parse(testing::http_get(url("/status")).body, nullptr, false);
  }

  double metric(const std::string& text, const std::string& name,
                const std::map<std::string, std::string>& labels) const {
    return testing::metric_value(text, name, labels).value_or(-1);
  }
};

TEST_F(UpdaterE2eTest, WritesTheTrustedAddressTracksItAndSurvivesARestart) {
  const std::string name = "host6.ddnswatch.test";
  const std::string record = name + "/A";
  json cfg = updater_config(name, "192.0.2.61");
  auto daemon = start(cfg);

  // Written at the provider (BIND), signed with the lab's key.
  ASSERT_TRUE(testing::wait_until([&] { return at_auth1(name) == "192.0.2.61"; }, seconds(15)))
      << daemon->err();

  // The record's state and the monitor's expectation follow.
  ASSERT_TRUE(testing::wait_until(
      [&] {
        json s = status();
        return s.is_object() && s.contains("records") && s["records"].size() == 1 &&
               s["records"][0]["state"] == "in_sync" && s["names"].size() == 1 &&
               s["names"][0]["expected"] == json({"192.0.2.61"});
      },
      seconds(15)))
      << status().dump(2) << daemon->err();
  json rec = status()["records"][0];
  EXPECT_EQ(rec["record"], record);
  EXPECT_EQ(rec["provider"], "rfc2136");
  EXPECT_EQ(rec["held"], json({"192.0.2.61"}));
  EXPECT_EQ(rec["last_outcome"], "updated");
  EXPECT_TRUE(rec["last_update"].is_string());
  EXPECT_EQ(status().dump().find(lab_->get("LAB_KEY_SECRET")), std::string::npos);

  std::string m = testing::http_get(url("/metrics")).body;
  EXPECT_EQ(metric(m, "ddnswatch_record_updates_total",
                   {{"record", record}, {"provider", "rfc2136"}, {"outcome", "updated"}}),
            1);
  EXPECT_EQ(metric(m, "ddnswatch_record_in_sync", {{"record", record}}), 1);
  EXPECT_EQ(metric(m, "ddnswatch_public_ip_info", {{"family", "ipv4"}, {"address", "192.0.2.61"}}),
            1);
  EXPECT_EQ(
      metric(m, "ddnswatch_ip_source_up", {{"source", "static:192.0.2.61"}, {"family", "ipv4"}}),
      1);
  EXPECT_GT(metric(m, "ddnswatch_record_last_update_timestamp_seconds", {{"record", record}}), 0);
  EXPECT_EQ(m.find(lab_->get("LAB_KEY_SECRET")), std::string::npos);
  // With the detection and updater families present, Prometheus's linter still says nothing.
  const auto scraped = dir_.write("scrape.txt", m);
  auto lint = testing::run_command(
      {"/bin/sh", "-c", "promtool check metrics < '" + scraped.string() + "'"}, dir_.path());
  EXPECT_EQ(lint.out + lint.err, "") << "promtool must print nothing";
  for (const char* family :
       {"ddnswatch_public_ip_info", "ddnswatch_public_ip_changes_total",
        "ddnswatch_public_ip_last_change_timestamp_seconds", "ddnswatch_ip_source_up",
        "ddnswatch_ip_sources_agreeing", "ddnswatch_record_updates_total",
        "ddnswatch_record_in_sync", "ddnswatch_record_last_update_timestamp_seconds",
        "ddnswatch_provider_request_duration_seconds"}) {
    EXPECT_THAT(m, HasSubstr(std::string("\n# TYPE ") + family + " ")) << family;
  }

  // A new address: written again, an ip_changed, and the monitor tracks the change.
  cfg = updater_config(name, "192.0.2.62");
  dir_.write("ddnswatch.json", cfg.dump(2));
  daemon->signal(SIGHUP);
  ASSERT_TRUE(testing::wait_until([&] { return at_auth1(name) == "192.0.2.62"; }, seconds(15)))
      << daemon->err();
  ASSERT_TRUE(testing::wait_until(
      [&] {
        json s = status();
        return s.is_object() && s["names"].size() == 1 &&
               s["names"][0]["expected"] == json({"192.0.2.62"}) &&
               s["names"][0].contains("history") &&
               s["names"][0]["history"].dump().find("192.0.2.61") != std::string::npos;
      },
      seconds(15)))
      << status().dump(2);
  m = testing::http_get(url("/metrics")).body;
  EXPECT_EQ(metric(m, "ddnswatch_public_ip_changes_total", {{"family", "ipv4"}}), 1);
  EXPECT_EQ(metric(m, "ddnswatch_record_updates_total",
                   {{"record", record}, {"provider", "rfc2136"}, {"outcome", "updated"}}),
            2);
  EXPECT_THAT(daemon->err(),
              HasSubstr("public IPv4 address changed from 192.0.2.61 to 192.0.2.62"));

  // A restart: the record is known to be in sync, so nothing is written (the serial stays).
  const std::string serial_before = serial();
  daemon->signal(SIGTERM);
  ASSERT_TRUE(daemon->wait(seconds(10)).has_value());
  daemon = start(cfg);
  ASSERT_TRUE(testing::wait_until(
      [&] {
        json s = status();
        return s.is_object() && s.contains("records") && s["records"].size() == 1 &&
               s["records"][0]["state"] == "in_sync";
      },
      seconds(10)))
      << status().dump(2) << daemon->err();
  // Let detection run and the monitor check the name a few times: still nothing written.
  double first_cycle = 0;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        m = testing::http_get(url("/metrics")).body;
        const double cycle = metric(m, "ddnswatch_monitor_last_cycle_timestamp_seconds", {});
        if (first_cycle <= 0) first_cycle = cycle;
        return metric(m, "ddnswatch_ip_sources_agreeing", {{"family", "ipv4"}}) == 1 &&
               first_cycle > 0 && cycle >= first_cycle + 3;
      },
      seconds(15)));
  EXPECT_EQ(metric(m, "ddnswatch_record_updates_total",
                   {{"record", record}, {"provider", "rfc2136"}, {"outcome", "updated"}}),
            0);
  EXPECT_EQ(metric(m, "ddnswatch_public_ip_changes_total", {{"family", "ipv4"}}), 0);
  EXPECT_EQ(serial(), serial_before);
}

TEST_F(UpdaterE2eTest, OnceUpdatesVerifiesAndSaysHowFarItGot) {
  const std::string name = "host4.ddnswatch.test";
  json cfg = updater_config(name, "192.0.2.44");
  const auto path = dir_.write("once.json", cfg.dump(2));
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {DDNSWATCH_BINARY, "once", "--config", path.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::run_command(argv, dir_.path(), seconds(60));
  };
  // Written; ns1 (the primary) serves it, ns2 is the lab's stale copy: exit 3.
  auto r = run({"--verify-timeout", "2"});
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("ipv4: 192.0.2.44 (1 of 1 source agrees, quorum 1)"));
  EXPECT_THAT(r.out,
              ::testing::ContainsRegex("host4.ddnswatch.test/A +rfc2136 +updated +192.0.2.44"));
  EXPECT_THAT(r.out, HasSubstr("ns1.ddnswatch.test match, ns2.ddnswatch.test 192.0.2.1"));
  EXPECT_EQ(at_auth1(name), "192.0.2.44");
  // Again: nothing to write.
  const std::string serial_before = serial();
  r = run({"--no-verify", "--json"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  json doc = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << r.out;
  EXPECT_EQ(doc["records"][0]["last_outcome"], "unchanged");
  EXPECT_EQ(serial(), serial_before);
  // A wrong secret: refused, exit 1, said in plain words, the secret never printed.
  json bad = cfg;
  bad["records"][0]["provider"]["key_secret"] = "c2VjcmV0LXRoYXQtaXMtd3Jvbmc=";
  dir_.write("once.json", bad.dump(2));
  r = run({"--no-verify"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("rejected"));
  EXPECT_EQ((r.out + r.err).find("c2VjcmV0LXRoYXQtaXMtd3Jvbmc="), std::string::npos);
}

}  // namespace
}  // namespace ddnswatch
