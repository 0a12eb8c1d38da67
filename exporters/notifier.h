// The notification sinks: webhooks (a body template per preset, extra headers, DingTalk and
// Feishu signatures) and an Alertmanager that receives alerts through POST /api/v2/alerts and
// sees them resolved when the condition ends. Each sink has its own queue, sends one message
// at a time, retries with exponential backoff and jitter (honouring Retry-After), and never
// blocks the loop: everything goes through the asynchronous HttpClient.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/observers.h"
#include "exporters/notification.h"
#include "net/http_client.h"

namespace ddnswatch::exporters {

struct NotifierOptions {
  std::string instance;  // this ddnswatch, for {{instance}} and the alerts' "instance" label
  Duration retry_base = std::chrono::seconds(2);
  Duration retry_cap = std::chrono::minutes(5);
  int max_attempts = 6;
  size_t queue_limit = 100;  // per sink; the oldest message goes when a new one arrives
  /// Active alerts are sent again this often, valid for alert_lifetime: if ddnswatch dies,
  /// Alertmanager resolves them on its own after that.
  Duration alert_resend = std::chrono::minutes(1);
  Duration alert_lifetime = std::chrono::minutes(5);
  Duration request_timeout = std::chrono::seconds(10);
};

/// Loop thread only. Destroy before the HttpClient and the loop.
class Notifier {
 public:
  Notifier(EventLoop& loop, net::HttpClient& http, const Clock& clock, NotifyObserver* observer,
           NotifierOptions options);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  /// (Re)configures the sinks. A webhook that keeps its name keeps its queue. `watched` lists
  /// the names still monitored and their resolvers (the entry "authoritative" stands for every
  /// discovered "auth:" server): Alertmanager alerts about anything else are resolved.
  void configure(const config::NotifyConfig& notify, const std::vector<WatchedName>& watched);

  /// Sends `n` to every webhook subscribed to its event and updates the Alertmanager's alerts.
  void publish(const Notification& n);

  /// Messages waiting or in flight, over all sinks.
  size_t pending() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddnswatch::exporters
