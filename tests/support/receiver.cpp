#include "support/receiver.h"

#include <stdexcept>

namespace ddnswatch::testing {

Receiver::Receiver(std::vector<std::string> paths) {
  exporters::HttpServerOptions options;
  options.port = 0;
  options.threads = 8;
  options.methods = {"GET", "HEAD", "POST", "PUT"};
  std::map<std::string, exporters::HttpHandler> routes;
  for (const auto& p : paths) {
    routes[p] = [this](const exporters::HttpRequest& req) { return answer(req); };
  }
  auto server = exporters::HttpServer::start(options, std::move(routes));
  if (!server) throw std::runtime_error("receiver: " + server.error().message);
  server_ = std::move(*server);
}

Receiver::~Receiver() { server_.reset(); }

uint16_t Receiver::port() const { return server_->port(); }

std::string Receiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + path;
}

void Receiver::script(std::vector<exporters::HttpResponse> answers) {
  std::lock_guard lock(mutex_);
  script_.assign(answers.begin(), answers.end());
}

void Receiver::set_fallback(exporters::HttpResponse response) {
  std::lock_guard lock(mutex_);
  fallback_ = std::move(response);
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
  std::lock_guard lock(mutex_);
  requests_.push_back(req);
  changed_.notify_all();
  if (script_.empty()) return fallback_;
  exporters::HttpResponse r = std::move(script_.front());
  script_.pop_front();
  return r;
}

}  // namespace ddnswatch::testing
