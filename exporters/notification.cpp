#include "exporters/notification.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/crypto.h"
#include "net/http_client.h"

namespace ddnswatch::exporters {

using nlohmann::json;

std::string severity(const std::string& event) {
  if (event == "resolver_foreign" || event == "split_brain_began" || event == "record_failed") {
    return "warning";
  }
  return "info";
}

std::string summary(const Notification& n) {
  const std::string subject = n.name.empty() ? n.qtype : n.name + " " + n.qtype;
  const std::string& e = n.event;
  if (e == "resolver_foreign") {
    return fmt::format("{}: resolver {} answers {}, neither the expected nor a previous answer",
                       subject, n.resolver, n.detail.empty() ? "(nothing)" : n.detail);
  }
  if (e == "resolver_stale") {
    return fmt::format("{}: resolver {} still answers the previous {}", subject, n.resolver,
                       n.detail);
  }
  if (e == "resolver_recovered") {
    return fmt::format("{}: resolver {} answers the expected {} again", subject, n.resolver,
                       n.detail);
  }
  if (e == "resolver_error") {
    return fmt::format("{}: resolver {} gives no usable answer ({})", subject, n.resolver,
                       n.detail);
  }
  if (e == "split_brain_began") {
    return fmt::format("{}: split-brain, resolvers give different answers", subject);
  }
  if (e == "split_brain_ended") return fmt::format("{}: resolvers agree again", subject);
  if (e == "propagation_complete") {
    return fmt::format("{}: propagation complete, no resolver gives the old answer", subject);
  }
  if (e == "expected_changed") {
    return fmt::format("{}: the expected answer is now {}", subject, n.detail);
  }
  if (e == "ip_changed") return fmt::format("public address changed to {}", n.detail);
  if (e == "record_updated") return fmt::format("{}: record updated to {}", subject, n.detail);
  if (e == "record_failed") return fmt::format("{}: record update failed: {}", subject, n.detail);
  return fmt::format("{}: {} {}", subject, e, n.detail);
}

std::string preset_template(const std::string& preset) {
  // {{summary}} is prefixed with the product name where the message stands alone in a chat.
  if (preset == "slack") return R"({"text":"[ddnswatch] {{summary}}"})";
  if (preset == "dingtalk" || preset == "wecom") {
    return R"({"msgtype":"text","text":{"content":"[ddnswatch] {{summary}}"}})";
  }
  if (preset == "feishu") {
    return R"({"msg_type":"text","content":{"text":"[ddnswatch] {{summary}}"}})";
  }
  return R"({"event":"{{event}}","severity":"{{severity}}","summary":"{{summary}}",)"
         R"("name":"{{name}}","qtype":"{{qtype}}","resolver":"{{resolver}}",)"
         R"("detail":"{{detail}}","time":"{{time}}","instance":"{{instance}}"})";
}

namespace {

std::string field(const Notification& n, const std::string& key, const std::string& instance) {
  if (key == "event") return n.event;
  if (key == "summary") return summary(n);
  if (key == "name") return n.name;
  if (key == "qtype") return n.qtype;
  if (key == "resolver") return n.resolver;
  if (key == "detail") return n.detail;
  if (key == "severity") return severity(n.event);
  if (key == "time") return format_utc(n.time);
  if (key == "instance") return instance;
  return "{{" + key + "}}";  // the config check refuses unknown placeholders
}

std::string fill(const std::string& text, const Notification& n, const std::string& instance) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    size_t close = open == std::string::npos ? open : text.find("}}", open + 2);
    if (close == std::string::npos) {
      out.append(text, pos);
      return out;
    }
    out.append(text, pos, open - pos);
    out += field(n, text.substr(open + 2, close - open - 2), instance);
    pos = close + 2;
  }
}

void fill_all(json& j, const Notification& n, const std::string& instance) {
  if (j.is_object() || j.is_array()) {
    for (auto& v : j) fill_all(v, n, instance);
  } else if (j.is_string()) {
    j = fill(j.get_ref<const std::string&>(), n, instance);
  }
}

}  // namespace

Result<std::string> render_body(const std::string& json_template, const Notification& n,
                                const std::string& instance) {
  json j = json::parse(json_template, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorCode::kInvalidArgument, "the template is not JSON");
  fill_all(j, n, instance);
  return j.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

std::string dingtalk_sign_query(const std::string& secret, int64_t unix_ms) {
  const std::string ts = std::to_string(unix_ms);
  const std::string sign = base64_encode(hmac_sha256(secret, ts + "\n" + secret));
  return "&timestamp=" + ts + "&sign=" + percent_encode(sign);
}

std::string feishu_sign(const std::string& secret, int64_t unix_seconds) {
  return base64_encode(hmac_sha256(std::to_string(unix_seconds) + "\n" + secret, ""));
}

namespace {

// Chat bots answer HTTP 200 with an error code in the body. The codes that mean "too many
// messages" are worth a retry after a pause; every other non-zero code is a refusal.
Verdict judge_bot_body(const std::string& preset, const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object())
    return {Delivery::kRejected, "the answer is not the JSON object the service sends", {}};
  long code = 0;
  std::string message;
  if (preset == "feishu") {
    // {"code":0,"msg":"success"}; older bots: {"StatusCode":0,"StatusMessage":"success"}
    const char* key = j.contains("code") ? "code" : "StatusCode";
    if (!j.contains(key) || !j[key].is_number_integer()) {
      return {Delivery::kRejected, "the answer has no \"code\"", {}};
    }
    code = j[key].get<long>();
    const char* msg = j.contains("msg") ? "msg" : "StatusMessage";
    if (j.contains(msg) && j[msg].is_string()) message = j[msg].get<std::string>();
    if (code == 0) return {};
    if (code == 9499 || code == 11232) {
      return {Delivery::kRetry, fmt::format("rate limited (code {}: {})", code, message),
              std::chrono::seconds(60)};
    }
  } else {
    // DingTalk and WeCom: {"errcode":0,"errmsg":"ok"}
    if (!j.contains("errcode") || !j["errcode"].is_number_integer()) {
      return {Delivery::kRejected, "the answer has no \"errcode\"", {}};
    }
    code = j["errcode"].get<long>();
    if (j.contains("errmsg") && j["errmsg"].is_string()) message = j["errmsg"].get<std::string>();
    if (code == 0) return {};
    // DingTalk 130101: "send too fast" (20 messages a minute); WeCom 45009: frequency limit.
    if (code == 130101 || code == 45009 || code == -1) {
      return {Delivery::kRetry, fmt::format("rate limited (errcode {}: {})", code, message),
              std::chrono::seconds(60)};
    }
  }
  return {Delivery::kRejected, fmt::format("refused (code {}: {})", code, message), {}};
}

}  // namespace

Verdict judge(const std::string& preset, bool transferred, long status, const std::string& body,
              const std::optional<std::string>& retry_after_header, WallTime now) {
  if (!transferred) return {Delivery::kRetry, "no answer", {}};
  std::optional<Duration> after;
  if (retry_after_header) after = net::parse_retry_after(*retry_after_header, now);
  if (status == 429 || status == 408 || status >= 500) {
    return {Delivery::kRetry, fmt::format("HTTP {}", status), after};
  }
  if (status < 200 || status >= 300) {
    // Slack answers 400 invalid_payload, 403 invalid_token, 404 no_service, 410
    // channel_is_archived.
    std::string text = body.substr(0, 120);
    text.erase(
        std::remove_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }),
        text.end());
    return {
        Delivery::kRejected,
        text.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {}: {}", status, text),
        {}};
  }
  if (preset == "dingtalk" || preset == "wecom" || preset == "feishu") {
    return judge_bot_body(preset, body);
  }
  return {};
}

}  // namespace ddnswatch::exporters
