#include "support/receiver.h"

#include <stdexcept>

namespace ddnswatch::testing {

Receiver::Receiver(std::vector<std::string> paths)
    : Receiver(ReceiverOptions{std::move(paths), {"GET", "HEAD", "POST", "PUT"}, std::nullopt}) {}

Receiver::Receiver(ReceiverOptions o) : tls_(o.tls.has_value()) {
  if (tls_) {
    // civetweb speaks TLS only once the process set it up; that lasts until exit.
    static exporters::HttpLibrary library;
  }
  exporters::HttpServerOptions options;
  options.port = 0;
  options.threads = 8;
  options.methods = std::move(o.methods);
  options.tls = std::move(o.tls);
  std::map<std::string, exporters::HttpHandler> routes;
  for (const auto& p : o.paths) {
    routes[p] = [this](const exporters::HttpRequest& req) { return answer(req); };
  }
  auto server = exporters::HttpServer::start(options, std::move(routes));
  if (!server) throw std::runtime_error("receiver: " + server.error().message);
  server_ = std::move(*server);
}

Receiver::~Receiver() { server_.reset(); }

uint16_t Receiver::port() const { return server_->port(); }

std::string Receiver::url(const std::string& path) const {
  return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port()) + path;
}

void Receiver::script(std::vector<exporters::HttpResponse> answers) {
  std::lock_guard lock(mutex_);
  script_.assign(answers.begin(), answers.end());
}

void Receiver::set_fallback(exporters::HttpResponse response) {
  std::lock_guard lock(mutex_);
  fallback_ = std::move(response);
}

void Receiver::set_handler(Handler handler) {
  std::lock_guard lock(mutex_);
  handler_ = handler ? std::make_shared<Handler>(std::move(handler)) : nullptr;
}

std::vector<exporters::HttpRequest> Receiver::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool Receiver::wait_for(size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

exporters::HttpResponse Receiver::answer(const exporters::HttpRequest& req) {
  std::shared_ptr<Handler> handler;  // the same object each time: a handler may keep state
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(req);
    changed_.notify_all();
    if (!script_.empty()) {
      exporters::HttpResponse r = std::move(script_.front());
      script_.pop_front();
      return r;
    }
    if (!handler_) return fallback_;
    handler = handler_;
  }
  // Outside the recording lock: a handler may hold its answer back (a slow server) while the
  // test looks at the requests. Handlers still run one at a time.
  std::lock_guard serial(handler_mutex_);
  return (*handler)(req);
}

}  // namespace ddnswatch::testing
