// An HTTP receiver for tests: a local server (the daemon's own HttpServer) on 127.0.0.1 and a
// run-time port that records every request and answers from a script, e.g. "503 twice, then
// 200". Webhook and Alertmanager tests point the daemon at it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exporters/http_server.h"

namespace ddnswatch::testing {

struct ReceiverOptions {
  /// Exact paths; "/**" serves every path (fake APIs with ids in their paths).
  std::vector<std::string> paths = {"/hook"};
  std::vector<std::string> methods = {"GET", "HEAD", "POST", "PUT"};
  /// When set, the receiver speaks HTTPS with this chain and key.
  std::optional<exporters::TlsFiles> tls;
};

class Receiver {
 public:
  using Handler = std::function<exporters::HttpResponse(const exporters::HttpRequest&)>;

  /// Serves `paths` (exact), accepting GET, HEAD, POST and PUT.
  explicit Receiver(std::vector<std::string> paths = {"/hook"});
  explicit Receiver(ReceiverOptions options);
  ~Receiver();

  std::string url(const std::string& path = "/hook") const;
  uint16_t port() const;

  /// The next answers, in order; once used up, `fallback` answers.
  void script(std::vector<exporters::HttpResponse> answers);
  void set_fallback(exporters::HttpResponse response);
  /// Answers instead of the fallback once the script is used up (a fake API with state).
  /// Runs on the server's threads, one request at a time, without the lock that requests()
  /// and wait_for() take: a handler may hold its answer back while the test looks on.
  void set_handler(Handler handler);

  std::vector<exporters::HttpRequest> requests() const;
  /// Waits until at least `count` requests arrived; false at the deadline.
  bool wait_for(size_t count, std::chrono::milliseconds timeout);

 private:
  exporters::HttpResponse answer(const exporters::HttpRequest& req);

  mutable std::mutex mutex_;
  std::mutex handler_mutex_;
  std::condition_variable changed_;
  std::vector<exporters::HttpRequest> requests_;
  std::deque<exporters::HttpResponse> script_;
  exporters::HttpResponse fallback_{200, "text/plain; charset=utf-8", "ok\n", {}};
  std::shared_ptr<Handler> handler_;
  bool tls_ = false;
  std::unique_ptr<exporters::HttpServer> server_;
};

}  // namespace ddnswatch::testing
