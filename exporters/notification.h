// What a notification says and how each webhook flavour wants it written: the event record,
// the one-line summary for people, the body templates of the presets (plain, Slack, DingTalk,
// WeCom, Feishu) with their {{placeholders}}, the signatures of DingTalk and Feishu bots, how
// each service's answer tells success from failure, and the retry policy. All pure functions:
// the Notifier (notifier.h) does the I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace ddnswatch::exporters {

/// One edge-triggered event, as sinks receive it.
struct Notification {
  std::string event;     // a config event name: ip_changed, resolver_foreign, ...
  std::string name;      // the DNS name (empty for ip_changed)
  std::string qtype;     // A, AAAA (for ip_changed: the family's record type)
  std::string resolver;  // for the resolver_* events
  std::string detail;    // the answer, the new address, or the error
  WallTime time{};
};

/// "warning" for what needs a person (foreign answers, split-brain, failed updates), "info"
/// for the rest.
std::string severity(const std::string& event);

/// One line for people, e.g. "home.example.com A: resolver google answers 203.0.113.9, which
/// is neither the expected nor a previous address".
std::string summary(const Notification& n);

/// The body template of a preset (plain, slack, dingtalk, wecom, feishu), as JSON text.
std::string preset_template(const std::string& preset);

/// Fills a body template: every {{field}} inside the template's JSON strings is replaced by the
/// notification's value, JSON-escaped by construction. `instance` names this ddnswatch (its
/// host name) for {{instance}}. Fails only when the template is not JSON.
Result<std::string> render_body(const std::string& json_template, const Notification& n,
                                const std::string& instance);

/// DingTalk's signature: the query suffix "&timestamp=MS&sign=URLENCODED" to append to the
/// webhook URL (base64 of HMAC-SHA256 over "MS\nsecret", keyed by the secret).
std::string dingtalk_sign_query(const std::string& secret, int64_t unix_ms);

/// Feishu's signature: base64 of HMAC-SHA256 with the key "SECONDS\nsecret" over nothing; the
/// body gets "timestamp" (seconds, a string) and "sign".
std::string feishu_sign(const std::string& secret, int64_t unix_seconds);

/// How a delivery attempt ended.
enum class Delivery {
  kDelivered,
  kRetry,     // worth another try: network trouble, 5xx, 429, a service's "too fast" code
  kRejected,  // the service refused the message itself (bad token, bad payload): no retry
};

struct Verdict {
  Delivery delivery = Delivery::kDelivered;
  std::string reason;                   // for logs, when not delivered
  std::optional<Duration> retry_after;  // the service said when to come back
};

/// Judges a service's answer. `preset` matters because DingTalk, WeCom and Feishu answer
/// HTTP 200 with an error code in the JSON body. `transferred` false means no answer at all.
Verdict judge(const std::string& preset, bool transferred, long status, const std::string& body,
              const std::optional<std::string>& retry_after_header, WallTime now);

}  // namespace ddnswatch::exporters
