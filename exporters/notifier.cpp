#include "exporters/notifier.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "core/backoff.h"

namespace ddnswatch::exporters {

using nlohmann::json;

namespace {

/// A message waiting in a sink's queue. The request is built at each attempt: signatures carry
/// the time of sending, and alerts their current expiry.
struct Message {
  std::function<net::HttpRequest()> build;
  std::string what;  // for logs: the event or "3 alerts"
  int attempts = 0;
};

struct Sink {
  std::string name;
  std::string preset;  // how to judge the answer ("plain" for Alertmanager)
  std::deque<Message> queue;
  bool sending = false;
  std::unique_ptr<Timer> timer;  // armed while waiting to retry
};

/// An alert the Alertmanager sink keeps firing until its condition ends.
struct Alert {
  json labels;
  json annotations;
  WallTime starts_at{};
};

std::string rfc3339(WallTime t) { return format_utc(t); }

}  // namespace

struct Notifier::Impl {
  EventLoop& loop;
  net::HttpClient& http;
  const Clock& clock;
  NotifyObserver* observer;
  NotifierOptions options;
  std::mt19937 random{std::random_device{}()};

  std::vector<config::WebhookConfig> webhooks;
  std::optional<std::filesystem::path> ca_file;
  std::map<std::string, std::shared_ptr<Sink>> sinks;  // by name

  std::optional<std::string> alertmanager;  // base URL
  std::map<std::string, Alert> alerts;      // active, by alertname and labels
  std::unique_ptr<Timer> resend_timer;

  Impl(EventLoop& l, net::HttpClient& h, const Clock& c, NotifyObserver* o, NotifierOptions opt)
      : loop(l), http(h), clock(c), observer(o), options(std::move(opt)) {
    resend_timer = loop.make_timer([this] { resend_alerts(); });
  }

  std::shared_ptr<Sink> make_sink(const std::string& name, const std::string& preset) {
    auto s = std::make_shared<Sink>();
    s->name = name;
    s->preset = preset;
    std::weak_ptr<Sink> weak = s;
    s->timer = loop.make_timer([this, weak] {
      if (auto sink = weak.lock()) pump(sink);
    });
    return s;
  }

  void report_queue(const Sink& s) {
    if (observer) observer->notification_queue(s.name, s.queue.size());
  }

  void enqueue(const std::shared_ptr<Sink>& s, Message m) {
    if (s->queue.size() >= options.queue_limit) {
      // The head may be in flight; drop the oldest message that is not.
      auto victim = s->queue.begin() + (s->sending ? 1 : 0);
      if (victim != s->queue.end()) {
        spdlog::warn("notify {}: queue full ({} messages); dropped the oldest, {}", s->name,
                     s->queue.size(), victim->what);
        s->queue.erase(victim);
        if (observer) observer->notification_done(s->name, "dropped");
      }
    }
    s->queue.push_back(std::move(m));
    report_queue(*s);
    pump(s);
  }

  void pump(const std::shared_ptr<Sink>& s) {
    if (s->sending || s->queue.empty() || s->timer->active()) return;
    s->sending = true;
    Message& m = s->queue.front();
    ++m.attempts;
    net::HttpRequest rq = m.build();
    rq.timeout = options.request_timeout;
    rq.ca_file = ca_file;
    std::weak_ptr<Sink> weak = s;
    http.send(std::move(rq), [this, weak](net::HttpResult r) {
      if (auto sink = weak.lock()) done(sink, r);
    });
  }

  void done(const std::shared_ptr<Sink>& s, const net::HttpResult& r) {
    s->sending = false;
    if (s->queue.empty()) return;
    Message& m = s->queue.front();
    Verdict v = judge(s->preset, r.transferred(), r.status, r.body, r.header("retry-after"),
                      clock.wall_now());
    if (!r.transferred()) v.reason = r.describe();
    if (v.delivery == Delivery::kRetry && m.attempts < options.max_attempts) {
      std::uniform_real_distribution<double> jitter(0.8, 1.2);
      Duration wait =
          exponential_backoff(m.attempts, options.retry_base, options.retry_cap, jitter(random));
      if (v.retry_after) wait = std::clamp(*v.retry_after, wait, options.retry_cap * 2);
      spdlog::warn("notify {}: {} not delivered ({}); attempt {} of {} in {} ms", s->name, m.what,
                   v.reason, m.attempts + 1, options.max_attempts, wait.count());
      if (observer) observer->notification_retried(s->name);
      s->timer->start(wait);
      return;
    }
    if (v.delivery == Delivery::kDelivered) {
      spdlog::debug("notify {}: delivered {}", s->name, m.what);
      if (observer) observer->notification_done(s->name, "delivered");
    } else {
      spdlog::error("notify {}: giving up on {} after {} attempt{}: {}", s->name, m.what,
                    m.attempts, m.attempts == 1 ? "" : "s", v.reason);
      if (observer) observer->notification_done(s->name, "failed");
    }
    s->queue.pop_front();
    report_queue(*s);
    pump(s);
  }

  // --- webhooks ---

  void send_webhook(const config::WebhookConfig& w, const Notification& n) {
    if (!w.events.empty() && std::find(w.events.begin(), w.events.end(), n.event) == w.events.end())
      return;
    const std::string tmpl = w.body_template.empty() ? preset_template(w.preset) : w.body_template;
    auto body = render_body(tmpl, n, options.instance);
    if (!body) {
      spdlog::error("notify {}: {}", w.name, body.error().message);
      return;
    }
    Message m;
    m.what = n.event + (n.name.empty() ? "" : " for " + n.name);
    m.build = [this, w, body = *body]() {
      net::HttpRequest rq;
      rq.method = "POST";
      rq.url = w.url.reveal();
      rq.body = body;
      const auto now = clock.wall_now();
      if (w.secret && w.preset == "dingtalk") {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        const std::string q = dingtalk_sign_query(w.secret->reveal(), ms);  // "&timestamp=.."
        rq.url += rq.url.find('?') == std::string::npos ? "?" + q.substr(1) : q;
      } else if (w.secret && w.preset == "feishu") {
        const auto s =
            std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
        json j = json::parse(body, nullptr, false);
        if (j.is_object()) {
          j["timestamp"] = std::to_string(s);
          j["sign"] = feishu_sign(w.secret->reveal(), s);
          rq.body = j.dump();
        }
      }
      rq.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
      for (const auto& [k, v] : w.headers) rq.headers.emplace_back(k, v.reveal());
      return rq;
    };
    enqueue(sinks.at(w.name), std::move(m));
  }

  // --- Alertmanager ---

  static std::string alert_key(const json& labels) { return labels.dump(); }

  json alert_labels(const std::string& alertname, const Notification& n) const {
    // Severities as in the Prometheus rules of the same names (dashboards/prometheus).
    const char* sev = alertname == "DdnswatchResolverForeignAnswer" ? "critical" : "warning";
    json l = {{"alertname", alertname}, {"name", n.name},        {"qtype", n.qtype},
              {"severity", sev},        {"source", "ddnswatch"}, {"instance", options.instance}};
    if (alertname == "DdnswatchResolverForeignAnswer") l["resolver"] = n.resolver;
    return l;
  }

  json to_json(const Alert& a, WallTime ends_at) const {
    return {{"labels", a.labels},
            {"annotations", a.annotations},
            {"startsAt", rfc3339(a.starts_at)},
            {"endsAt", rfc3339(ends_at)}};
  }

  void post_alerts(json alerts_array, std::string what) {
    if (!alertmanager || alerts_array.empty()) return;
    Message m;
    m.what = std::move(what);
    m.build = [this, body = alerts_array.dump()]() {
      net::HttpRequest rq;
      rq.method = "POST";
      std::string base = *alertmanager;
      while (!base.empty() && base.back() == '/') base.pop_back();
      rq.url = base + "/api/v2/alerts";
      rq.body = body;
      rq.headers.emplace_back("Content-Type", "application/json");
      return rq;
    };
    enqueue(sinks.at("alertmanager"), std::move(m));
  }

  void fire(const std::string& alertname, const Notification& n, const std::string& summary_text) {
    json labels = alert_labels(alertname, n);
    std::string key = alert_key(labels);
    auto [it, fresh] = alerts.try_emplace(key);
    Alert& a = it->second;
    a.labels = labels;
    a.annotations = {
        {"summary", summary_text},
        {"description", fmt::format("{} (ddnswatch on {}, event {} at {})", summary_text,
                                    options.instance, n.event, rfc3339(n.time))}};
    if (fresh) a.starts_at = n.time;
    post_alerts(json::array({to_json(a, clock.wall_now() + options.alert_lifetime)}),
                alertname + " firing for " + n.name);
    if (!resend_timer->active()) resend_timer->start(options.alert_resend, options.alert_resend);
  }

  void resolve_key(const std::string& key) {
    auto it = alerts.find(key);
    if (it == alerts.end()) return;
    json one = to_json(it->second, clock.wall_now());
    std::string what = it->second.labels.value("alertname", "") + " resolved for " +
                       it->second.labels.value("name", "");
    alerts.erase(it);
    post_alerts(json::array({one}), what);
    if (alerts.empty()) resend_timer->stop();
  }

  void resolve(const std::string& alertname, const Notification& n) {
    resolve_key(alert_key(alert_labels(alertname, n)));
  }

  void update_alerts(const Notification& n) {
    const std::string& e = n.event;
    if (e == "resolver_foreign") {
      fire("DdnswatchResolverForeignAnswer", n, summary(n));
    } else if (e == "resolver_stale" || e == "resolver_recovered") {
      resolve("DdnswatchResolverForeignAnswer", n);
    } else if (e == "split_brain_began") {
      fire("DdnswatchSplitBrain", n, summary(n));
    } else if (e == "split_brain_ended") {
      resolve("DdnswatchSplitBrain", n);
    } else if (e == "record_failed") {
      fire("DdnswatchRecordUpdateFailed", n, summary(n));
    } else if (e == "record_updated") {
      resolve("DdnswatchRecordUpdateFailed", n);
    }
  }

  void resend_alerts() {
    if (alerts.empty()) {
      resend_timer->stop();
      return;
    }
    auto& sink = sinks.at("alertmanager");
    // One refresh in the queue is enough: a newer one replaces an older that waits.
    if (sink->queue.size() > (sink->sending ? 1u : 0u)) return;
    json all = json::array();
    const auto ends = clock.wall_now() + options.alert_lifetime;
    for (const auto& [k, a] : alerts) all.push_back(to_json(a, ends));
    post_alerts(std::move(all),
                fmt::format("{} active alert{}", alerts.size(), alerts.size() == 1 ? "" : "s"));
  }

  static bool still_watched(const json& labels, const std::vector<WatchedName>& watched) {
    const std::string name = labels.value("name", "");
    const std::string qtype = labels.value("qtype", "");
    const std::string resolver = labels.value("resolver", "");
    for (const auto& w : watched) {
      if (w.name != name || w.qtype != qtype) continue;
      if (resolver.empty()) return true;
      for (const auto& r : w.resolvers) {
        if (r == resolver || (r == "authoritative" && resolver.starts_with("auth:"))) return true;
      }
    }
    return false;
  }

  void configure(const config::NotifyConfig& notify, const std::vector<WatchedName>& watched) {
    webhooks = notify.webhooks;
    ca_file = notify.ca_file;
    std::map<std::string, std::shared_ptr<Sink>> next;
    std::vector<std::string> names;
    for (const auto& w : webhooks) {
      auto it = sinks.find(w.name);
      auto s = it != sinks.end() && it->second->preset == w.preset ? it->second
                                                                   : make_sink(w.name, w.preset);
      next[w.name] = s;
      names.push_back(w.name);
    }
    const bool same_am =
        alertmanager && notify.alertmanager && *alertmanager == *notify.alertmanager;
    if (!same_am) alerts.clear();  // a new Alertmanager knows nothing of the old one's alerts
    alertmanager = notify.alertmanager;
    if (alertmanager) {
      auto it = sinks.find("alertmanager");
      next["alertmanager"] =
          same_am && it != sinks.end() ? it->second : make_sink("alertmanager", "plain");
      names.push_back("alertmanager");
    }
    for (auto& [name, s] : sinks) {
      auto it = next.find(name);
      if (it != next.end() && it->second == s) continue;
      for (size_t i = 0; i < s->queue.size(); ++i) {
        if (observer) observer->notification_done(name, "dropped");
      }
    }
    sinks = std::move(next);
    if (observer) {
      observer->notify_configured(names);
      for (const auto& [name, s] : sinks) report_queue(*s);
    }
    // Alerts about names or resolvers no longer watched end now.
    std::vector<std::string> gone;
    for (const auto& [key, a] : alerts) {
      if (a.labels.value("alertname", "") != "DdnswatchRecordUpdateFailed" &&
          !still_watched(a.labels, watched)) {
        gone.push_back(key);
      }
    }
    for (const auto& key : gone) resolve_key(key);
    if (!alertmanager) resend_timer->stop();
  }
};

Notifier::Notifier(EventLoop& loop, net::HttpClient& http, const Clock& clock,
                   NotifyObserver* observer, NotifierOptions options)
    : impl_(std::make_unique<Impl>(loop, http, clock, observer, std::move(options))) {}

Notifier::~Notifier() = default;

void Notifier::configure(const config::NotifyConfig& notify,
                         const std::vector<WatchedName>& watched) {
  impl_->configure(notify, watched);
}

void Notifier::publish(const Notification& n) {
  for (const auto& w : impl_->webhooks) impl_->send_webhook(w, n);
  if (impl_->alertmanager) impl_->update_alerts(n);
}

size_t Notifier::pending() const {
  size_t n = 0;
  for (const auto& [name, s] : impl_->sinks) n += s->queue.size();
  return n;
}

}  // namespace ddnswatch::exporters
