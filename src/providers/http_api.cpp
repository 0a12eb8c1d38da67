#include "providers/http_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <limits>

namespace ddnswatch::providers {

using std::chrono::seconds;

std::optional<WallTime> parse_http_date(const std::string& text) {
  const auto t = parse_http_date_seconds(text);
  if (!t) return std::nullopt;
  return std::chrono::time_point_cast<WallTime::duration>(
      std::chrono::system_clock::from_time_t(*t));
}

std::optional<Duration> date_skew(const net::HttpResult& answer, WallTime sent, WallTime received) {
  auto header = answer.header("date");
  if (!header) return std::nullopt;
  auto date = parse_http_date(*header);
  if (!date) return std::nullopt;
  const WallTime middle = sent + (received - sent) / 2;
  return std::chrono::duration_cast<Duration>(*date - middle);
}

std::string describe_skew(Duration skew) {
  const auto s = std::chrono::duration_cast<seconds>(skew).count();
  return fmt::format("the server's clock is {} s {} ours", std::llabs(s),
                     s >= 0 ? "ahead of" : "behind");
}

std::optional<nlohmann::json> json_body(const net::HttpResult& answer) {
  auto j = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string string_at(const nlohmann::json& object, const char* key, const std::string& fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::optional<int64_t> integer_at(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

bool true_at(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

std::optional<uint32_t> ttl_at(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_unsigned()) return std::nullopt;
  const auto value = it->get<uint64_t>();
  if (value > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(value);
}

const nlohmann::json& array_at(const nlohmann::json& object, const char* key) {
  static const nlohmann::json empty = nlohmann::json::array();
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : empty;
}

std::string shorten_message(const std::string& text) {
  return text.size() <= 160 ? text : text.substr(0, 160) + "...";
}

std::string describe_body(const net::HttpResult& answer) {
  std::string excerpt;
  for (char c : answer.body) {
    if (excerpt.size() >= 80) {
      excerpt += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    excerpt += (u >= 0x20 && u < 0x7f) ? c : ' ';
  }
  return fmt::format("{}, {} bytes{}{}", answer.header("content-type").value_or("no content type"),
                     answer.body.size(), excerpt.empty() ? "" : ": ", excerpt);
}

Reconciliation http_failure(const net::HttpResult& answer, const std::string& what,
                            const std::string& detail, WallTime now) {
  Reconciliation r;
  const std::string tail = detail.empty() ? "" : ": " + detail;
  if (!answer.transferred()) {
    r.outcome = Outcome::kFailed;
    r.message = fmt::format("{}: {}{}", what, answer.describe(),
                            answer.error == net::TransferError::kTls
                                ? " (the certificate did not verify; for a private CA set ca_file)"
                                : "");
    return r;
  }
  const long s = answer.status;
  if (s == 429) {
    r.outcome = Outcome::kRateLimited;
    if (auto h = answer.header("retry-after")) r.retry_after = net::parse_retry_after(*h, now);
    r.message = fmt::format(
        "{}: HTTP 429, the provider asks us to slow down{}{}", what,
        r.retry_after
            ? fmt::format(" for {} s", std::chrono::duration_cast<seconds>(*r.retry_after).count())
            : "",
        tail);
  } else if (s == 401 || s == 403) {
    r.outcome = Outcome::kRejected;
    r.message = fmt::format("{}: HTTP {}, the credentials were refused{}", what, s, tail);
  } else if (s >= 500 || s == 408 || s == 409 || s == 425) {
    r.outcome = Outcome::kFailed;
    r.message = fmt::format("{}: HTTP {}{}", what, s, tail);
  } else {
    r.outcome = Outcome::kRejected;
    r.message = fmt::format("{}: HTTP {}{}", what, s, tail);
  }
  return r;
}

HttpProvider::HttpProvider(ProviderContext context, std::optional<std::filesystem::path> ca_file)
    : loop_(context.loop),
      http_(context.http),
      clock_(context.clock),
      ca_file_(std::move(ca_file)),
      timeout_(context.http_timeout),
      alive_(std::make_shared<char>(0)) {}

HttpProvider::~HttpProvider() = default;

void HttpProvider::send(net::HttpRequest request, std::function<void(HttpExchange)> then) {
  if (ca_file_) request.ca_file = ca_file_;
  request.timeout = timeout_;
  request.connect_timeout = std::min<Duration>(seconds(10), timeout_);
  const WallTime sent = clock_.wall_now();
  std::weak_ptr<char> alive = alive_;
  http_.send(std::move(request), [this, alive, sent, then = std::move(then)](net::HttpResult r) {
    if (alive.expired()) return;
    then(HttpExchange{std::move(r), sent, clock_.wall_now()});
  });
}

void HttpProvider::report(Done done, Reconciliation result) {
  std::weak_ptr<char> alive = alive_;
  loop_.post([alive, done = std::move(done), result = std::move(result)]() mutable {
    if (!alive.expired()) done(std::move(result));
  });
}

}  // namespace ddnswatch::providers
