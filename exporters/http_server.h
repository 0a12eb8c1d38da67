// The HTTP endpoint (/metrics, /healthz, ...): a civetweb server whose handlers are plain
// functions from a request to a response. Handlers run on the server's worker threads, so
// they may only read thread-safe snapshots or post to the event loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace ddnswatch::exporters {

struct HttpRequest {
  std::string method;
  std::string path;
  std::string query;
  std::map<std::string, std::string> headers;  // names in lower case
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IPv4 literal
  uint16_t port = 9877;            // 0: any free port; port() tells which
  int threads = 4;
  /// When set, every path except `open_paths` needs these HTTP basic auth credentials.
  std::optional<std::pair<std::string, std::string>> basic_auth;  // username, password
  std::vector<std::string> open_paths = {"/healthz", "/readyz"};
};

/// Serves until destroyed. Construction and destruction on one thread; handlers on workers.
class HttpServer {
 public:
  /// Binds and starts serving `routes` (exact paths). Fails with a message that names the
  /// address, e.g. when it is already in use.
  static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options,
                                                   std::map<std::string, HttpHandler> routes);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl, uint16_t port);
  std::unique_ptr<Impl> impl_;
  uint16_t port_;
};

/// civetweb's process-wide init and cleanup; main() holds one.
class HttpLibrary {
 public:
  HttpLibrary();
  ~HttpLibrary();
  HttpLibrary(const HttpLibrary&) = delete;
  HttpLibrary& operator=(const HttpLibrary&) = delete;
};

}  // namespace ddnswatch::exporters
