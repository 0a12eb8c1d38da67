#include "exporters/http_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <exception>
#include <thread>

#include "exporters/gzip.h"

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
  std::string expected_authorization;  // "Basic base64(user:password)"; empty: open
};

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
            kAlphabet[v & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

// Compares in time that depends only on the lengths, not on where the first difference is.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

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

// Bodies smaller than this are sent as they are: compressing them saves nothing.
constexpr size_t kGzipMinimum = 1024;

void send(mg_connection* conn, const HttpRequest& req, HttpResponse resp) {
  auto accept = req.headers.find("accept-encoding");
  if (resp.body.size() >= kGzipMinimum && accept != req.headers.end() &&
      accepts_gzip(accept->second)) {
    if (auto packed = gzip_compress(resp.body)) {
      resp.body = std::move(*packed);
      resp.headers.emplace_back("Content-Encoding", "gzip");
    }
  }
  resp.headers.emplace_back("Vary", "Accept-Encoding");
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n",
      resp.status, reason_phrase(resp.status), resp.content_type, resp.body.size());
  for (const auto& [name, value] : resp.headers) head += fmt::format("{}: {}\r\n", name, value);
  head += "\r\n";
  mg_write(conn, head.data(), head.size());
  if (req.method != "HEAD" && !resp.body.empty())
    mg_write(conn, resp.body.data(), resp.body.size());
}

// civetweb calls this on a worker thread; nothing may escape into C.
int dispatch(mg_connection* conn, void* data) noexcept {
  auto* route = static_cast<Route*>(data);
  HttpRequest req = to_request(conn);
  HttpResponse resp;
  try {
    auto auth = req.headers.find("authorization");
    if (!route->expected_authorization.empty() &&
        (auth == req.headers.end() || !same_secret(auth->second, route->expected_authorization))) {
      resp = HttpResponse{401,
                          "text/plain; charset=utf-8",
                          "authentication required\n",
                          {{"WWW-Authenticate", "Basic realm=\"ddnswatch\", charset=\"UTF-8\""}}};
    } else if (req.method != "GET" && req.method != "HEAD") {
      resp = HttpResponse{405,
                          "text/plain; charset=utf-8",
                          "only GET and HEAD are allowed\n",
                          {{"Allow", "GET, HEAD"}}};
    } else {
      resp = route->handler(req);
    }
  } catch (const std::exception& e) {
    spdlog::error("HTTP handler for {} failed: {}", req.path, e.what());
    resp = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}};
  }
  const int status = resp.status;
  send(conn, req, std::move(resp));
  return status;
}

}  // namespace

// Opens and closes a TCP connection to host:port, to wake a thread blocked in poll().
void poke(const std::string& host, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host == "0.0.0.0" ? "127.0.0.1" : host.c_str(), &addr.sin_addr) == 1) {
    // Best effort: the connection only has to wake civetweb's poll(); failure is harmless.
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  ::close(fd);
}

struct HttpServer::Impl {
  mg_context* ctx = nullptr;
  std::string host;
  uint16_t port = 0;
  std::map<std::string, Route> routes;  // stable addresses: civetweb keeps pointers to them

  ~Impl() {
    if (!ctx) return;
    // civetweb's master thread notices the stop flag only when its poll() on the listening
    // socket returns, which takes up to 2 s when idle; a connection wakes it at once.
    std::atomic<bool> stopped{false};
    std::thread stopper([&] {
      mg_stop(ctx);
      stopped = true;
    });
    while (!stopped) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (!stopped) poke(host, port);
    }
    stopper.join();
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
  std::string authorization;
  if (options.basic_auth) {
    authorization = "Basic " + base64(options.basic_auth->first + ":" + options.basic_auth->second);
  }
  for (auto& [path, handler] : routes) {
    const bool open = std::find(options.open_paths.begin(), options.open_paths.end(), path) !=
                      options.open_paths.end();
    impl->routes[path] = Route{std::move(handler), open ? std::string() : authorization};
  }

  const std::string& listening = address;
  const std::string threads = std::to_string(std::max(1, options.threads));
  const char* cfg[] = {"listening_ports", listening.c_str(), "num_threads", threads.c_str(),
                       // Workers notice a stop only between polls of at most this long, so it
                       // bounds shutdown time with an idle client connected; a scraper sends
                       // its request right after connecting.
                       "request_timeout_ms", "1500", "enable_directory_listing", "no", nullptr};
  mg_callbacks callbacks{};
  // civetweb logs to stderr on its own unless told otherwise. While starting, its first
  // message (e.g. "cannot bind to ...: Address already in use") becomes our error text;
  // later ones go through spdlog.
  static thread_local std::string* start_log = nullptr;
  std::string first_message;
  start_log = &first_message;
  callbacks.log_message = [](const mg_connection*, const char* message) -> int {
    if (start_log) {
      if (start_log->empty()) *start_log = message;
    } else {
      spdlog::warn("http: {}", message);
    }
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
  start_log = nullptr;
  if (!impl->ctx) {
    std::string why = !first_message.empty() ? first_message
                      : error_text[0]        ? std::string(error_text)
                                             : std::string("unknown error");
    return make_error(ErrorCode::kIo, fmt::format("cannot listen on {}: {}", address, why));
  }
  for (auto& [path, route] : impl->routes) {
    // A trailing "$" makes civetweb match the path exactly, not as a prefix.
    mg_set_request_handler(impl->ctx, (path + "$").c_str(), dispatch, &route);
  }
  mg_server_port ports[4] = {};
  int n = mg_get_server_ports(impl->ctx, 4, ports);
  uint16_t port = n > 0 ? static_cast<uint16_t>(ports[0].port) : options.port;
  impl->host = options.host;
  impl->port = port;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl), port));
}

HttpLibrary::HttpLibrary() { mg_init_library(0); }
HttpLibrary::~HttpLibrary() { mg_exit_library(); }

}  // namespace ddnswatch::exporters
