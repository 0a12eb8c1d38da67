// What the HTTP providers (PowerDNS API, Cloudflare, Alibaba Cloud DNS, DNSPod, DynDNS2) share:
// a base class that sends requests with the record's TLS settings and forgets callbacks once
// the provider is gone, the reading of an HTTP answer that is not a success (429 with
// Retry-After, 401/403, 5xx, a failed transfer), and clock skew measured from the Date header.
//
// TLS is always verified: HttpClient has no switch to turn it off, and `ca_file` can only add
// trust (a private CA, the tests' CA).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/clock.h"
#include "net/http_client.h"
#include "providers/provider.h"

namespace ddnswatch::providers {

/// An HTTP-date (RFC 9110 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"); nullopt otherwise.
std::optional<WallTime> parse_http_date(const std::string& text);

/// The server's clock minus ours, from the answer's Date header, against the middle of the
/// exchange (`sent`..`received`). nullopt without a readable Date header. Date has a
/// resolution of a second, so only differences of a few seconds and more mean anything.
std::optional<Duration> date_skew(const net::HttpResult& answer, WallTime sent, WallTime received);

/// "the server's clock is 1200 s ahead of ours" / "... behind ours".
std::string describe_skew(Duration skew);

/// The answer's body as JSON; nullopt when it is not (an HTML error page, half a document).
std::optional<nlohmann::json> json_body(const net::HttpResult& answer);

/// Members of a JSON object read without throwing: a member that is missing or of another type
/// counts as absent (a provider's odd answer must not become an exception in a callback).
std::string string_at(const nlohmann::json& object, const char* key,
                      const std::string& fallback = "");
std::optional<int64_t> integer_at(const nlohmann::json& object, const char* key);
bool true_at(const nlohmann::json& object, const char* key);
/// A TTL: a non-negative integer that fits 32 bits (a larger one is not cut down to another).
std::optional<uint32_t> ttl_at(const nlohmann::json& object, const char* key);
/// The member if it is an array, else an empty array.
const nlohmann::json& array_at(const nlohmann::json& object, const char* key);

/// A provider's error message cut to a log line's length (Alibaba's can carry the whole string
/// it signed).
std::string shorten_message(const std::string& text);

/// "text/html, 1532 bytes: <!DOCTYPE html><html>..." — a short, printable excerpt of an answer
/// that could not be understood, for the message of a failed reconciliation.
std::string describe_body(const net::HttpResult& answer);

/// How an answer that is not a success ends a reconciliation, when the provider's own error
/// codes said nothing more precise:
///   a failed transfer, 5xx, 408, 409, 425 → failed (retry with backoff);
///   429 → rate_limited, with the Retry-After header as retry_after;
///   401, 403 → rejected ("the credentials were refused");
///   other 4xx → rejected (the same request will not succeed later).
/// `what` names the call ("reading the record"); `detail` is the provider's own error text.
Reconciliation http_failure(const net::HttpResult& answer, const std::string& what,
                            const std::string& detail, WallTime now);

/// One exchange as a provider sees it: the answer and when it was sent and came back.
struct HttpExchange {
  net::HttpResult answer;
  WallTime sent{};
  WallTime received{};
};

/// The base of the HTTP providers. Loop thread only.
class HttpProvider : public Provider {
 public:
  ~HttpProvider() override;

 protected:
  HttpProvider(ProviderContext context, std::optional<std::filesystem::path> ca_file);

  /// Sends `request` with the provider's CA file and timeouts; `then` runs later on the loop
  /// thread, unless the provider has been destroyed by then.
  void send(net::HttpRequest request, std::function<void(HttpExchange)> then);

  /// Runs `done(result)` later on the loop thread (never inside reconcile()), unless the
  /// provider has been destroyed by then.
  void report(Done done, Reconciliation result);

  EventLoop& loop_;
  net::HttpClient& http_;
  const Clock& clock_;

 private:
  std::optional<std::filesystem::path> ca_file_;
  Duration timeout_;
  std::shared_ptr<char> alive_;  // callbacks hold weak pointers to it
};

}  // namespace ddnswatch::providers
