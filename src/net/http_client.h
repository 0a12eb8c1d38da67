// HTTP(S) requests on the daemon's event loop: one curl multi handle driven by libuv (a poll
// handle per socket curl asks us to watch, one timer), as curl's multi-uv example does. Used by
// the notification sinks and, later, the IP echo sources and the HTTP provider APIs.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/result.h"

namespace ddnswatch::net {

/// Which address family a request's connection uses (curl's CURLOPT_IPRESOLVE). IP echo
/// services answer with the address the request came from, so each family asks over its own.
enum class IpResolve { kAny, kIpv4, kIpv6 };

struct HttpRequest {
  std::string method = "GET";
  /// May carry a token (webhook URLs do): it never appears in an HttpResult's error text.
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given
  std::string body;
  Duration timeout = std::chrono::seconds(10);  // the whole transfer
  Duration connect_timeout = std::chrono::seconds(5);
  /// Certificates are always verified; this adds trust in a private CA (tests, in-house APIs).
  std::optional<std::filesystem::path> ca_file;
  size_t max_response_bytes = 1 << 20;  // a larger body fails the transfer
  IpResolve ip_resolve = IpResolve::kAny;
};

/// Why a transfer failed, coarse enough for metrics and retry decisions.
enum class TransferError {
  kNone,
  kResolve,   // the host name did not resolve
  kConnect,   // refused, unreachable
  kTimeout,   // connect or transfer deadline passed
  kTls,       // handshake or certificate verification failed
  kTooLarge,  // the response exceeded max_response_bytes
  kProtocol,  // anything else: malformed response, send/receive error
};
const char* to_string(TransferError error);

struct HttpResult {
  TransferError error = TransferError::kNone;
  std::string error_message;  // for people; never contains the URL's path or query
  long status = 0;            // the HTTP status when error == kNone
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  Duration elapsed{};

  bool transferred() const { return error == TransferError::kNone; }
  bool ok() const { return transferred() && status >= 200 && status < 300; }
  /// The first header of that (lower-case) name.
  std::optional<std::string> header(const std::string& name) const;
  /// "HTTP 503" or the transfer error, for logs.
  std::string describe() const;
};

/// A Retry-After value (RFC 9110): delta seconds or an IMF-fixdate such as
/// "Sun, 06 Nov 1994 08:49:37 GMT", as a wait from `now`; nullopt when it is neither.
std::optional<Duration> parse_retry_after(const std::string& value, WallTime now);

/// Loop thread only. Destroying the client cancels what is in flight without calling back.
class HttpClient {
 public:
  using Callback = std::function<void(HttpResult)>;

  static Result<std::unique_ptr<HttpClient>> create(EventLoop& loop);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Starts the request; `callback` runs later on the loop thread, never inside send().
  void send(HttpRequest request, Callback callback);

  size_t in_flight() const;

  struct Impl;  // opaque; public only so the implementation's C callbacks can name it

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddnswatch::net
