// Notifications end to end: the daemon watches a lab name that the "split" cache answers with
// a foreign address. Each webhook preset's receiver gets its templated body; a real
// Alertmanager receives the pushed alert, delivers it to its own webhook receiver, and
// delivers the resolution once a reload stops watching that resolver.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/http_get.h"
#include "support/lab_fixture.h"
#include "support/metrics_text.h"
#include "support/process.h"
#include "support/receiver.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using ::testing::HasSubstr;

class NotifyTest : public testing::LabDaemonFixture {};

json watch_one(const std::string& name, std::vector<std::string> resolvers) {
  return json::array({{{"name", name},
                       {"type", "A"},
                       {"expect", {"192.0.2.1"}},
                       {"resolvers", resolvers},
                       {"interval", "1s"}}});
}

TEST_F(NotifyTest, EachPresetReceivesItsTemplatedBody) {
  testing::Receiver receiver({"/plain", "/slack", "/dingtalk", "/wecom", "/feishu", "/custom"});
  // One answer that every service's success check accepts.
  receiver.set_fallback(
      {200, "application/json", R"({"errcode":0,"errmsg":"ok","code":0,"msg":"success"})", {}});
  json cfg = config(watch_one("host8.ddnswatch.test", {"fast", "split"}));
  json hooks = json::array();
  for (const char* preset : {"plain", "slack", "dingtalk", "wecom", "feishu"}) {
    hooks.push_back({{"name", preset},
                     {"url", receiver.url(std::string("/") + preset)},
                     {"preset", preset},
                     {"events", {"resolver_foreign"}}});
  }
  hooks.push_back({{"name", "custom"},
                   {"url", receiver.url("/custom")},
                   {"events", {"resolver_foreign"}},
                   {"headers", {{"X-Token", "t0psecret"}}},
                   {"body", {{"alert", "{{event}} on {{resolver}}"}, {"ip", "{{detail}}"}}}});
  cfg["notify"] = {{"webhooks", hooks}};
  auto daemon = start(cfg);

  ASSERT_TRUE(receiver.wait_for(6, std::chrono::seconds(20))) << daemon->err();
  std::map<std::string, json> bodies;
  for (const auto& r : receiver.requests()) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_THAT(r.headers.at("content-type"), HasSubstr("application/json"));
    bodies[r.path] = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  }
  const std::string line =
      "[ddnswatch] host8.ddnswatch.test A: resolver split answers 198.51.100.66, neither the "
      "expected nor a previous answer";
  EXPECT_EQ(bodies["/slack"], json({{"text", line}}));
  EXPECT_EQ(bodies["/dingtalk"], json({{"msgtype", "text"}, {"text", {{"content", line}}}}));
  EXPECT_EQ(bodies["/wecom"], json({{"msgtype", "text"}, {"text", {{"content", line}}}}));
  EXPECT_EQ(bodies["/feishu"], json({{"msg_type", "text"}, {"content", {{"text", line}}}}));
  EXPECT_EQ(bodies["/plain"]["event"], "resolver_foreign");
  EXPECT_EQ(bodies["/plain"]["resolver"], "split");
  EXPECT_EQ(bodies["/plain"]["severity"], "warning");
  EXPECT_EQ(bodies["/custom"],
            json({{"alert", "resolver_foreign on split"}, {"ip", "198.51.100.66"}}));
  for (const auto& r : receiver.requests()) {
    if (r.path == "/custom") {
      EXPECT_EQ(r.headers.at("x-token"), "t0psecret");
    }
  }

  // Delivery shows in the metrics once each sink has had its answer (the receiver records a
  // request before it answers); the header's secret shows nowhere.
  std::string metrics;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        metrics = testing::http_get(url("/metrics")).body;
        for (const char* sink : {"slack", "dingtalk", "wecom", "feishu", "plain", "custom"}) {
          const std::string delivered =
              std::string(R"(ddnswatch_notifications_total{outcome="delivered",sink=")") + sink +
              R"("} 1)";
          if (metrics.find(delivered) == std::string::npos) return false;
        }
        return true;
      },
      seconds(10)))
      << metrics;
  EXPECT_THAT(metrics,
              HasSubstr(R"(ddnswatch_notifications_total{outcome="failed",sink="slack"} 0)"));
  EXPECT_THAT(metrics, HasSubstr(R"(ddnswatch_notification_queue_length{sink="custom"} 0)"));
  EXPECT_EQ(metrics.find("t0psecret"), std::string::npos);
  EXPECT_EQ(testing::http_get(url("/status")).body.find("t0psecret"), std::string::npos);
  EXPECT_EQ(daemon->err().find("t0psecret"), std::string::npos);
}

TEST_F(NotifyTest, AlertmanagerDeliversThePushedAlertAndItsResolution) {
  std::filesystem::path binary = "/usr/bin/prometheus-alertmanager";
  ASSERT_TRUE(std::filesystem::exists(binary))
      << "run scripts/install-deps.sh (Debian package prometheus-alertmanager)";
  testing::Receiver hook({"/am"});
  const uint16_t am_port = testing::free_port();
  // Each alert its own group, sent at once, the resolution after group_interval.
  const std::string am_yml =
      "route:\n"
      "  receiver: hook\n"
      "  group_by: ['...']\n"
      "  group_wait: 0s\n"
      "  group_interval: 1s\n"
      "  repeat_interval: 1h\n"
      "receivers:\n"
      "  - name: hook\n"
      "    webhook_configs:\n"
      "      - url: \"" +
      hook.url("/am") +
      "\"\n"
      "        send_resolved: true\n";
  const auto am_config = dir_.write("alertmanager.yml", am_yml);
  std::filesystem::create_directories(dir_.path() / "am-data");
  testing::Process am(
      {binary.string(), "--config.file=" + am_config.string(),
       "--storage.path=" + (dir_.path() / "am-data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(am_port), "--cluster.listen-address="},
      dir_.path());
  const std::string am_url = "http://127.0.0.1:" + std::to_string(am_port);
  ASSERT_TRUE(testing::wait_until(
      [&] { return testing::http_get(am_url + "/-/ready").status == 200; }, seconds(15)))
      << am.err();

  json cfg = config(watch_one("host9.ddnswatch.test", {"fast", "split"}));
  cfg["notify"] = {{"alertmanager", am_url}};
  auto daemon = start(cfg);

  // Alertmanager delivers what ddnswatch pushed.
  auto find = [&](const std::string& status) -> json {
    for (const auto& r : hook.requests()) {
      json doc = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
      if (!doc.is_object() || doc.value("status", "") != status) continue;
      for (const json& a : doc["alerts"]) {
        if (a["labels"].value("alertname", "") == "DdnswatchResolverForeignAnswer") return a;
      }
    }
    return nullptr;
  };
  json firing;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        firing = find("firing");
        return !firing.is_null();
      },
      seconds(30)))
      << "no firing alert reached the receiver\n"
      << daemon->err() << am.err();
  EXPECT_EQ(firing["labels"]["resolver"], "split");
  EXPECT_EQ(firing["labels"]["name"], "host9.ddnswatch.test");
  EXPECT_EQ(firing["labels"]["qtype"], "A");
  EXPECT_EQ(firing["labels"]["source"], "ddnswatch");
  EXPECT_THAT(firing["annotations"]["summary"].get<std::string>(), HasSubstr("198.51.100.66"));
  // Alertmanager's own API has it as active.
  auto active = testing::http_get(am_url + "/api/v2/alerts?active=true");
  EXPECT_THAT(active.body, HasSubstr("DdnswatchResolverForeignAnswer"));

  // Stop asking "split": the reload resolves the alert, and Alertmanager says so.
  cfg["watch"] = watch_one("host9.ddnswatch.test", {"fast"});
  dir_.write("ddnswatch.json", cfg.dump(2));
  daemon->signal(SIGHUP);
  json resolved;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        resolved = find("resolved");
        return !resolved.is_null();
      },
      seconds(30)))
      << "no resolution reached the receiver\n"
      << daemon->err();
  EXPECT_EQ(resolved["labels"]["resolver"], "split");
  std::string metrics = testing::http_get(url("/metrics")).body;
  EXPECT_THAT(
      metrics,
      HasSubstr(R"(ddnswatch_notifications_total{outcome="failed",sink="alertmanager"} 0)"));
}

}  // namespace
}  // namespace ddnswatch
