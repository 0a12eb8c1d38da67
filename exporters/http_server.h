// The HTTP endpoint (/metrics, /healthz, ...): a civetweb server whose handlers are plain
// functions from a request to a response. Handlers run on the server's worker threads, so
// they may only read thread-safe snapshots or post to the event loop. With TlsFiles the port
// speaks HTTPS: civetweb does the TLS, this file loads the PEM files into its OpenSSL context.
#pragma once

#include <cstdint>
#include <filesystem>
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
  std::string body;
  bool body_too_large = false;  // answered 413 before any handler runs
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

/// A server certificate and its key, in two PEM files as certbot and most CAs hand them out.
struct TlsFiles {
  std::filesystem::path cert_file;  // the certificate, then any intermediates
  std::filesystem::path key_file;   // the private key, unencrypted
};

/// Loads `files` into a throwaway TLS context, as HttpServer::start would: what
/// `ddnswatch check` and a reload run before they touch a serving server. Errors name the
/// file and OpenSSL's reason, never the key's content. Any thread.
Result<void> check_tls_files(const TlsFiles& files);

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IPv4 literal
  uint16_t port = 9877;            // 0: any free port; port() tells which
  /// Worker threads; each serves one connection at a time. Prometheus needs one or two; the
  /// rest are for clients that connect and dawdle (slow, idle, broken) until the request
  /// timeout (1.5 s) cuts them off, so that a few of them cannot stall the scrapes. Idle
  /// workers cost a stack's address space and a 16 KB buffer each.
  int threads = 16;
  /// When set, every path except `open_paths` needs these HTTP basic auth credentials.
  std::optional<std::pair<std::string, std::string>> basic_auth;  // username, password
  std::vector<std::string> open_paths = {"/healthz", "/readyz"};
  /// Methods the routes accept; others get 405. Receivers in tests add POST.
  std::vector<std::string> methods = {"GET", "HEAD"};
  /// When set, the port speaks HTTPS only (TLS 1.2 or newer).
  std::optional<TlsFiles> tls;
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

/// civetweb's process-wide init and cleanup, with TLS (civetweb loads libssl.so and
/// libcrypto.so then); main() holds one, before any thread starts.
class HttpLibrary {
 public:
  HttpLibrary();
  ~HttpLibrary();
  HttpLibrary(const HttpLibrary&) = delete;
  HttpLibrary& operator=(const HttpLibrary&) = delete;
};

}  // namespace ddnswatch::exporters
