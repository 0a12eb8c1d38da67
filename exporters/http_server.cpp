#include "exporters/http_server.h"

#include <civetweb.h>

#include <algorithm>
#include <cctype>
#include <exception>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace ddnswatch::exporters {
namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

struct Route {
  HttpHandler handler;
};

HttpRequest to_request(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest req;
  req.method = info->request_method ? info->request_method : "";
  req.path = info->local_uri ? info->local_uri : "";
  req.query = info->query_string ? info->query_string : "";
  for (int i = 0; i < info->num_headers; ++i) {
    std::string name = info->http_headers[i].name ? info->http_headers[i].name : "";
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    req.headers[name] = info->http_headers[i].value ? info->http_headers[i].value : "";
  }
  return req;
}

void send(mg_connection* conn, const HttpRequest& req, const HttpResponse& resp) {
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n",
      resp.status, reason_phrase(resp.status), resp.content_type, resp.body.size());
  for (const auto& [name, value] : resp.headers) head += fmt::format("{}: {}\r\n", name, value);
  head += "\r\n";
  mg_write(conn, head.data(), head.size());
  if (req.method != "HEAD" && !resp.body.empty()) mg_write(conn, resp.body.data(), resp.body.size());
}

// civetweb calls this on a worker thread; nothing may escape into C.
int dispatch(mg_connection* conn, void* data) noexcept {
  auto* route = static_cast<Route*>(data);
  HttpRequest req = to_request(conn);
  HttpResponse resp;
  try {
    if (req.method != "GET" && req.method != "HEAD") {
      resp = HttpResponse{405, "text/plain; charset=utf-8", "only GET and HEAD are allowed\n",
                          {{"Allow", "GET, HEAD"}}};
    } else {
      resp = route->handler(req);
    }
  } catch (const std::exception& e) {
    spdlog::error("HTTP handler for {} failed: {}", req.path, e.what());
    resp = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}};
  }
  send(conn, req, resp);
  return static_cast<int>(resp.status);
}

}  // namespace

struct HttpServer::Impl {
  mg_context* ctx = nullptr;
  std::map<std::string, Route> routes;  // stable addresses: civetweb keeps pointers to them
  ~Impl() {
    if (ctx) mg_stop(ctx);
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl, uint16_t port)
    : impl_(std::move(impl)), port_(port) {}

HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options,
                                                      std::map<std::string, HttpHandler> routes) {
  const std::string address = fmt::format("{}:{}", options.host, options.port);
  if (options.host.find(':') != std::string::npos) {
    return make_error(ErrorCode::kUnsupported,
                      fmt::format("cannot listen on {}: the HTTP server is built without IPv6; "
                                  "use an IPv4 address",
                                  address));
  }
  auto impl = std::make_unique<Impl>();
  for (auto& [path, handler] : routes) impl->routes[path] = Route{std::move(handler)};

  const std::string listening = address;
  const std::string threads = std::to_string(std::max(1, options.threads));
  const char* cfg[] = {"listening_ports", listening.c_str(),
                       "num_threads", threads.c_str(),
                       "request_timeout_ms", "10000",
                       "enable_directory_listing", "no",
                       nullptr};
  mg_callbacks callbacks{};
  // civetweb logs to stderr on its own unless told otherwise; route it through spdlog.
  callbacks.log_message = [](const mg_connection*, const char* message) -> int {
    spdlog::warn("http: {}", message);
    return 1;
  };
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.configuration_options = cfg;
  char error_text[256] = {0};
  unsigned error_code = 0;
  mg_error_data error{};
  error.code = &error_code;
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  impl->ctx = mg_start2(&init, &error);
  if (!impl->ctx) {
    return make_error(ErrorCode::kIo, fmt::format("cannot listen on {}: {}", address,
                                                  error_text[0] ? error_text : "unknown error"));
  }
  for (auto& [path, route] : impl->routes) {
    // A trailing "$" makes civetweb match the path exactly, not as a prefix.
    mg_set_request_handler(impl->ctx, (path + "$").c_str(), dispatch, &route);
  }
  mg_server_port ports[4] = {};
  int n = mg_get_server_ports(impl->ctx, 4, ports);
  uint16_t port = n > 0 ? static_cast<uint16_t>(ports[0].port) : options.port;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl), port));
}

HttpLibrary::HttpLibrary() { mg_init_library(0); }
HttpLibrary::~HttpLibrary() { mg_exit_library(); }

}  // namespace ddnswatch::exporters
