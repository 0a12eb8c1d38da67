// Notifications: what each preset's body looks like, the bot signatures (checked against
// Python's hmac/base64), how a service's answer is judged, and the retry timing. Then the
// Notifier against a local receiver: retries, refusals, the queue limit, Alertmanager alerts.
#include "exporters/notification.h"

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "core/backoff.h"
#include "core/crypto.h"
#include "exporters/notifier.h"
#include "support/loop_runner.h"
#include "support/receiver.h"

namespace ddnswatch::exporters {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

Notification foreign() {
  Notification n;
  n.event = "resolver_foreign";
  n.name = "home.example.com";
  n.qtype = "A";
  n.resolver = "google";
  n.detail = "203.0.113.9";
  n.time = std::chrono::system_clock::from_time_t(1732460400);
  return n;
}

json render(const std::string& tmpl, const Notification& n) {
  auto body = render_body(tmpl, n, "probe-eu");
  EXPECT_TRUE(body.has_value());
  return json::parse(body.value_or("null"));
}

TEST(NotificationTest, EachPresetHasTheShapeItsServiceExpects) {
  const Notification n = foreign();
  const std::string line =
      "[ddnswatch] home.example.com A: resolver google answers 203.0.113.9, neither the "
      "expected nor a previous answer";
  EXPECT_EQ(render(preset_template("slack"), n), json({{"text", line}}));
  EXPECT_EQ(render(preset_template("dingtalk"), n),
            json({{"msgtype", "text"}, {"text", {{"content", line}}}}));
  EXPECT_EQ(render(preset_template("wecom"), n),
            json({{"msgtype", "text"}, {"text", {{"content", line}}}}));
  EXPECT_EQ(render(preset_template("feishu"), n),
            json({{"msg_type", "text"}, {"content", {{"text", line}}}}));
  json plain = render(preset_template("plain"), n);
  EXPECT_EQ(plain["event"], "resolver_foreign");
  EXPECT_EQ(plain["severity"], "warning");
  EXPECT_EQ(plain["name"], "home.example.com");
  EXPECT_EQ(plain["resolver"], "google");
  EXPECT_EQ(plain["detail"], "203.0.113.9");
  EXPECT_EQ(plain["time"], "2024-11-24T15:00:00Z");
  EXPECT_EQ(plain["instance"], "probe-eu");
}

TEST(NotificationTest, TemplatesFillPlaceholdersInsideStringsAndEscapeValues) {
  Notification n = foreign();
  n.detail = "quote \" backslash \\ newline \n";
  json j = render(R"({"msg":"{{name}} -> {{detail}}","list":["{{event}}",3,true],"n":null})", n);
  EXPECT_EQ(j["msg"], "home.example.com -> quote \" backslash \\ newline \n");
  EXPECT_EQ(j["list"], json({"resolver_foreign", 3, true}));
  EXPECT_TRUE(j["n"].is_null());
  EXPECT_FALSE(render_body("{not json", n, "x").has_value());
}

TEST(NotificationTest, SummariesNameWhatHappened) {
  Notification n = foreign();
  n.event = "split_brain_began";
  EXPECT_EQ(summary(n), "home.example.com A: split-brain, resolvers give different answers");
  n.event = "resolver_recovered";
  EXPECT_EQ(summary(n),
            "home.example.com A: resolver google answers the expected 203.0.113.9 again");
  n.event = "propagation_complete";
  EXPECT_EQ(summary(n),
            "home.example.com A: propagation complete, no resolver gives the old answer");
  EXPECT_EQ(severity("propagation_complete"), "info");
  EXPECT_EQ(severity("split_brain_began"), "warning");
}

TEST(NotificationTest, BotSignaturesMatchTheDocumentedAlgorithms) {
  // Expected values computed with Python's hmac, hashlib, base64 and urllib.parse.quote_plus.
  EXPECT_EQ(dingtalk_sign_query("SEC1234567890abcdef", 1732460400000),
            "&timestamp=1732460400000&sign=B7HRc54naTLi0NMNqF%2BotqZ887g2QnnXh3Ob9JyOYR8%3D");
  EXPECT_EQ(feishu_sign("SEC1234567890abcdef", 1732460400),
            "rAaOSbwf/TI+V87O7OIJYGdDDeJy1larCqBQqs7L3RQ=");
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(percent_encode("a b+/~"), "a%20b%2B%2F~");
  EXPECT_EQ(hex_encode(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

struct JudgeCase {
  const char* name;
  const char* preset;
  bool transferred;
  long status;
  const char* body;
  std::optional<std::string> retry_after;
  Delivery expected;
  std::optional<Duration> wait;
};

class JudgeTest : public ::testing::TestWithParam<JudgeCase> {};

TEST_P(JudgeTest, Judges) {
  const JudgeCase& c = GetParam();
  const WallTime now = std::chrono::system_clock::from_time_t(1732460400);
  Verdict v = judge(c.preset, c.transferred, c.status, c.body, c.retry_after, now);
  EXPECT_EQ(v.delivery, c.expected) << v.reason;
  EXPECT_EQ(v.retry_after, c.wait);
}

INSTANTIATE_TEST_SUITE_P(
    Table, JudgeTest,
    ::testing::Values(
        JudgeCase{"Plain200", "plain", true, 200, "", {}, Delivery::kDelivered, {}},
        JudgeCase{"Plain204", "plain", true, 204, "", {}, Delivery::kDelivered, {}},
        JudgeCase{"PlainNoAnswer", "plain", false, 0, "", {}, Delivery::kRetry, {}},
        JudgeCase{"Plain500", "plain", true, 500, "", {}, Delivery::kRetry, {}},
        JudgeCase{"Plain503RetryAfterSeconds", "plain", true, 503, "", "120", Delivery::kRetry,
                  seconds(120)},
        JudgeCase{"Plain429RetryAfterDate", "plain", true, 429, "", "Sun, 24 Nov 2024 15:00:30 GMT",
                  Delivery::kRetry, seconds(30)},
        JudgeCase{
            "Plain429RetryAfterGarbage", "plain", true, 429, "", "soon", Delivery::kRetry, {}},
        JudgeCase{"Slack200", "slack", true, 200, "ok", {}, Delivery::kDelivered, {}},
        JudgeCase{"Slack403", "slack", true, 403, "invalid_token", {}, Delivery::kRejected, {}},
        JudgeCase{"Slack404", "slack", true, 404, "no_service", {}, Delivery::kRejected, {}},
        JudgeCase{"DingtalkOk",
                  "dingtalk",
                  true,
                  200,
                  R"({"errcode":0,"errmsg":"ok"})",
                  {},
                  Delivery::kDelivered,
                  {}},
        JudgeCase{"DingtalkKeyword",
                  "dingtalk",
                  true,
                  200,
                  R"({"errcode":310000,"errmsg":"keywords not in content"})",
                  {},
                  Delivery::kRejected,
                  {}},
        JudgeCase{"DingtalkTooFast",
                  "dingtalk",
                  true,
                  200,
                  R"({"errcode":130101,"errmsg":"send too fast"})",
                  {},
                  Delivery::kRetry,
                  seconds(60)},
        JudgeCase{"DingtalkHtml",
                  "dingtalk",
                  true,
                  200,
                  "<html>proxy</html>",
                  {},
                  Delivery::kRejected,
                  {}},
        JudgeCase{"WecomBadUrl",
                  "wecom",
                  true,
                  200,
                  R"({"errcode":93000,"errmsg":"invalid webhook url"})",
                  {},
                  Delivery::kRejected,
                  {}},
        JudgeCase{"WecomFrequency",
                  "wecom",
                  true,
                  200,
                  R"({"errcode":45009,"errmsg":"api freq out of limit"})",
                  {},
                  Delivery::kRetry,
                  seconds(60)},
        JudgeCase{"FeishuOk",
                  "feishu",
                  true,
                  200,
                  R"({"code":0,"msg":"success","data":{}})",
                  {},
                  Delivery::kDelivered,
                  {}},
        JudgeCase{"FeishuOldOk",
                  "feishu",
                  true,
                  200,
                  R"({"StatusCode":0,"StatusMessage":"success"})",
                  {},
                  Delivery::kDelivered,
                  {}},
        JudgeCase{"FeishuSign",
                  "feishu",
                  true,
                  200,
                  R"({"code":19021,"msg":"sign match fail"})",
                  {},
                  Delivery::kRejected,
                  {}},
        JudgeCase{"FeishuTooMany",
                  "feishu",
                  true,
                  200,
                  R"({"code":9499,"msg":"too many request"})",
                  {},
                  Delivery::kRetry,
                  seconds(60)}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(BackoffTest, DoublesUpToTheCapWithJitter) {
  EXPECT_EQ(exponential_backoff(1, seconds(2), seconds(300), 1.0), seconds(2));
  EXPECT_EQ(exponential_backoff(2, seconds(2), seconds(300), 1.0), seconds(4));
  EXPECT_EQ(exponential_backoff(5, seconds(2), seconds(300), 1.0), seconds(32));
  EXPECT_EQ(exponential_backoff(20, seconds(2), seconds(300), 1.0), seconds(300));
  EXPECT_EQ(exponential_backoff(1, seconds(2), seconds(300), 0.8), milliseconds(1600));
  EXPECT_EQ(exponential_backoff(20, seconds(2), seconds(300), 1.2), seconds(360));
}

// --- the Notifier on a real loop against a local receiver ---

class CountingObserver : public NotifyObserver {
 public:
  void notify_configured(const std::vector<std::string>& s) override { sinks = s; }
  void notification_done(const std::string& sink, const char* outcome) override {
    ++done[sink + ":" + outcome];
  }
  void notification_retried(const std::string& sink) override { ++retried[sink]; }
  void notification_queue(const std::string& sink, size_t length) override { queue[sink] = length; }

  std::vector<std::string> sinks;
  std::map<std::string, int> done;
  std::map<std::string, int> retried;
  std::map<std::string, size_t> queue;
};

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    loop_ = std::move(*EventLoop::create());
    http_ = std::move(*net::HttpClient::create(*loop_));
    NotifierOptions o;
    o.instance = "test-host";
    o.retry_base = milliseconds(20);
    o.retry_cap = milliseconds(200);
    o.max_attempts = 3;
    o.queue_limit = 5;
    o.alert_resend = milliseconds(300);
    notifier_ = std::make_unique<Notifier>(*loop_, *http_, clock_, &observer_, o);
  }
  void TearDown() override {
    notifier_.reset();
    http_.reset();
    loop_.reset();
    curl_global_cleanup();
  }

  bool run_until(const std::function<bool()>& done, milliseconds timeout = milliseconds(5000)) {
    return testing::run_loop_until(*loop_, done, timeout);
  }

  static config::WebhookConfig hook(const std::string& name, const std::string& url,
                                    const std::string& preset = "plain") {
    config::WebhookConfig w;
    w.name = name;
    w.url = Secret(url);
    w.preset = preset;
    return w;
  }

  SystemClock clock_;
  CountingObserver observer_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<Notifier> notifier_;
};

TEST_F(NotifierTest, RetriesServerErrorsThenDeliversWithHeadersAndFilters) {
  testing::Receiver receiver;
  receiver.script({{503, "text/plain", "busy", {}}, {502, "text/plain", "bad gateway", {}}});
  config::NotifyConfig nc;
  auto w = hook("ops", receiver.url());
  w.events = {"resolver_foreign"};
  w.headers.emplace("Authorization", Secret("Bearer s3cret"));
  nc.webhooks.push_back(w);
  notifier_->configure(nc, {});
  EXPECT_EQ(observer_.sinks, std::vector<std::string>{"ops"});
  Notification other = foreign();
  other.event = "propagation_complete";
  notifier_->publish(other);  // not subscribed
  notifier_->publish(foreign());
  ASSERT_TRUE(run_until([&] { return observer_.done["ops:delivered"] == 1; }));
  EXPECT_EQ(observer_.retried["ops"], 2);
  EXPECT_EQ(observer_.queue["ops"], 0u);
  auto got = receiver.requests();
  ASSERT_EQ(got.size(), 3u);
  for (const auto& r : got) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.headers.at("authorization"), "Bearer s3cret");
    EXPECT_EQ(r.headers.at("content-type"), "application/json; charset=utf-8");
    EXPECT_EQ(json::parse(r.body)["event"], "resolver_foreign");
  }
}

TEST_F(NotifierTest, ARefusalIsNotRetriedAndAnUnreachableSinkGivesUp) {
  testing::Receiver receiver;
  receiver.set_fallback({200, "application/json", R"({"errcode":310000,"errmsg":"keywords"})", {}});
  config::NotifyConfig nc;
  nc.webhooks.push_back(hook("ding", receiver.url(), "dingtalk"));
  nc.webhooks.push_back(hook("dead", "http://127.0.0.1:1/hook"));
  notifier_->configure(nc, {});
  notifier_->publish(foreign());
  ASSERT_TRUE(run_until(
      [&] { return observer_.done["ding:failed"] == 1 && observer_.done["dead:failed"] == 1; }));
  EXPECT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(observer_.retried["ding"], 0);
  EXPECT_EQ(observer_.retried["dead"], 2);  // three attempts in all
  EXPECT_EQ(notifier_->pending(), 0u);
}

TEST_F(NotifierTest, AFullQueueDropsTheOldestAndSignedBotsCarryTheirSignature) {
  testing::Receiver receiver;
  config::NotifyConfig nc;
  auto w = hook("ding", receiver.url() + "?access_token=abc", "dingtalk");
  w.secret = Secret("SECxyz");
  receiver.set_fallback({200, "application/json", R"({"errcode":0,"errmsg":"ok"})", {}});
  nc.webhooks.push_back(w);
  auto f = hook("fei", receiver.url(), "feishu");
  f.secret = Secret("SECxyz");
  nc.webhooks.push_back(f);
  notifier_->configure(nc, {});
  for (int i = 0; i < 8; ++i) {
    Notification n = foreign();
    n.detail = "192.0.2." + std::to_string(i);
    notifier_->publish(n);
  }
  // Limit 5 per sink, the first one in flight: three of eight dropped each.
  EXPECT_EQ(observer_.done["ding:dropped"], 3);
  ASSERT_TRUE(run_until([&] { return notifier_->pending() == 0; }));
  EXPECT_EQ(observer_.done["ding:delivered"], 5);
  for (const auto& r : receiver.requests()) {
    json body = json::parse(r.body);
    if (body.contains("msgtype")) {
      // std::regex: GoogleTest's own regex on Windows knows neither [0-9] nor {13}.
      EXPECT_TRUE(
          std::regex_match(r.query, std::regex("access_token=abc&timestamp=[0-9]{13}&sign=.+")))
          << r.query;
    } else {
      EXPECT_EQ(body["msg_type"], "text");
      const std::string ts = body["timestamp"];
      EXPECT_EQ(body["sign"], feishu_sign("SECxyz", std::stoll(ts)));
    }
  }
}

TEST_F(NotifierTest, AlertmanagerAlertsFireRepeatAndResolve) {
  testing::Receiver am({"/api/v2/alerts"});
  config::NotifyConfig nc;
  nc.alertmanager = "http://127.0.0.1:" + std::to_string(am.port()) + "/";
  notifier_->configure(nc, {{"home.example.com", "A", {"google"}}});
  notifier_->publish(foreign());
  Notification n = foreign();
  n.event = "propagation_complete";  // not a condition: no alert
  notifier_->publish(n);
  // The first push, then at least one refresh of the same alert.
  ASSERT_TRUE(run_until([&] { return am.requests().size() >= 2; }));
  auto got = am.requests();
  for (const auto& r : got) {
    json alerts = json::parse(r.body);
    ASSERT_EQ(alerts.size(), 1u) << r.body;
    EXPECT_EQ(alerts[0]["labels"]["alertname"], "DdnswatchResolverForeignAnswer");
    EXPECT_EQ(alerts[0]["labels"]["resolver"], "google");
    EXPECT_EQ(alerts[0]["labels"]["instance"], "test-host");
    EXPECT_THAT(alerts[0]["annotations"]["summary"].get<std::string>(), HasSubstr("203.0.113.9"));
    EXPECT_EQ(alerts[0]["startsAt"], "2024-11-24T15:00:00Z");
    EXPECT_GT(alerts[0]["endsAt"].get<std::string>(), format_utc(clock_.wall_now()));
  }
  // Recovered: the alert ends now, and refreshes stop.
  n = foreign();
  n.event = "resolver_recovered";
  const size_t before = am.requests().size();
  notifier_->publish(n);
  ASSERT_TRUE(run_until([&] { return am.requests().size() == before + 1; }));
  json resolved = json::parse(am.requests().back().body);
  EXPECT_LE(resolved[0]["endsAt"].get<std::string>(), format_utc(clock_.wall_now()));
  run_until([] { return false; }, milliseconds(700));
  EXPECT_EQ(am.requests().size(), before + 1) << "no refresh after the last alert ended";
  // A reload that stops watching a name resolves its alerts.
  notifier_->publish(foreign());
  ASSERT_TRUE(run_until([&] { return am.requests().size() == before + 2; }));
  notifier_->configure(nc, {});
  ASSERT_TRUE(run_until([&] { return am.requests().size() == before + 3; }));
  json last = json::parse(am.requests().back().body);
  EXPECT_LE(last[0]["endsAt"].get<std::string>(), format_utc(clock_.wall_now()));
}

}  // namespace
}  // namespace ddnswatch::exporters
