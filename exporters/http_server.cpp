#include "exporters/http_server.h"

#include <civetweb.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <exception>
#include <thread>

#include "core/crypto.h"
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
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
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
  std::vector<std::string> methods;
};

// Compares in time that depends only on the lengths, not on where the first difference is.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

// Request bodies are read whole, up to this; a larger one gets 413.
constexpr size_t kMaxRequestBody = 1 << 20;

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
  char buffer[8192];
  int n = 0;
  while ((n = mg_read(conn, buffer, sizeof buffer)) > 0) {
    if (req.body.size() + static_cast<size_t>(n) > kMaxRequestBody) {
      req.body_too_large = true;
      break;
    }
    req.body.append(buffer, static_cast<size_t>(n));
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
      // civetweb runs without keep-alive and closes the connection after each answer; saying
      // so keeps a client from sending its next request into a socket being closed.
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
      "Connection: close\r\n",
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
    } else if (std::find(route->methods.begin(), route->methods.end(), req.method) ==
               route->methods.end()) {
      std::string allow = fmt::format("{}", fmt::join(route->methods, ", "));
      resp = HttpResponse{405,
                          "text/plain; charset=utf-8",
                          fmt::format("only {} allowed\n", allow),
                          {{"Allow", allow}}};
    } else if (req.body_too_large) {
      resp = HttpResponse{413, "text/plain; charset=utf-8", "request body too large\n", {}};
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

// Set by HttpLibrary: civetweb loaded libssl.so and libcrypto.so, so ports may speak TLS.
std::atomic<bool> tls_ready{false};
// Why not, when not; written by HttpLibrary before any thread starts.
std::string& tls_unavailable() {
  static std::string why = "HttpLibrary was not created";
  return why;
}

#ifndef _WIN32
// Loads the library of civetweb_tls_compat.c (read why there) from beside the binary (a build
// tree) or from ../lib/ddnswatch (an installation). Returns why not on failure.
std::optional<std::string> load_civetweb_tls_compat() {
  std::error_code ec;
  const std::filesystem::path dir =
      std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  if (ec) return "cannot find the program's own path: " + ec.message();
  std::string why;
  for (const auto& candidate :
       {dir / DDNSWATCH_CIVETWEB_TLS_FILE,
        (dir / ".." / "lib" / "ddnswatch" / DDNSWATCH_CIVETWEB_TLS_FILE).lexically_normal()}) {
    // Never closed: civetweb's dlopen("libssl.so") returns this very library, used until exit.
    if (dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL) != nullptr) return std::nullopt;
    const char* error = dlerror();  // NOLINT(concurrency-mt-unsafe): before any thread
    why += fmt::format("{}{}", why.empty() ? "" : "; ", error ? error : candidate.string());
  }
  return why;
}

// Empties this thread's OpenSSL error queue and returns the codes in it, earliest (the most
// specific reason) first.
std::vector<unsigned long> take_openssl_errors() {
  std::vector<unsigned long> codes;
  while (const unsigned long code = ERR_get_error()) codes.push_back(code);
  return codes;
}

std::string openssl_reason(const std::vector<unsigned long>& codes) {
  if (codes.empty()) return "unknown OpenSSL error";
  const unsigned long first = codes.front();
  if (ERR_GET_LIB(first) == ERR_LIB_PEM && ERR_GET_REASON(first) == PEM_R_NO_START_LINE) {
    return "no PEM data in the file (no \"-----BEGIN\" line)";
  }
  if (ERR_GET_LIB(first) == ERR_LIB_OSSL_DECODER && ERR_GET_REASON(first) == ERR_R_UNSUPPORTED) {
    return "the file holds no PEM data of the expected kind";
  }
  const char* reason = ERR_reason_error_string(first);
  return reason ? reason : fmt::format("OpenSSL error {:#x}", first);
}

bool has_error(const std::vector<unsigned long>& codes, int lib, int reason) {
  return std::any_of(codes.begin(), codes.end(), [&](unsigned long c) {
    return ERR_GET_LIB(c) == lib && ERR_GET_REASON(c) == reason;
  });
}

// Without this an encrypted key would make OpenSSL ask for its pass phrase on the terminal.
// `asked`, if set, points to a flag that records the question.
int no_pass_phrase(char*, int, int, void* asked) {
  if (asked) *static_cast<bool*>(asked) = true;
  return 0;
}

// Puts the certificate chain and its key into `ctx` and allows TLS 1.2 and newer only.
Result<void> load_tls_files(SSL_CTX* ctx, const TlsFiles& files) {
  ERR_clear_error();
  const std::string cert = files.cert_file.string();
  const std::string key = files.key_file.string();
  auto mismatch = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("TLS key {} does not match the certificate {}", key, cert));
  };
  SSL_CTX_set_default_passwd_cb(ctx, no_pass_phrase);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return make_error(ErrorCode::kInternal, "cannot set the minimum TLS version: " +
                                                openssl_reason(take_openssl_errors()));
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("cannot load TLS certificate {}: {}", cert,
                                  openssl_reason(take_openssl_errors())));
  }
  bool asked_pass_phrase = false;
  SSL_CTX_set_default_passwd_cb_userdata(ctx, &asked_pass_phrase);
  const bool key_loaded = SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) == 1;
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);  // the flag is about to go away
  if (!key_loaded) {
    const auto codes = take_openssl_errors();
    if (asked_pass_phrase) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("cannot load TLS key {}: it is encrypted; ddnswatch needs it "
                                    "without a pass phrase (openssl pkey -in KEY -out NEW_KEY)",
                                    key));
    }
    // A key of the certificate's type that is not its key is refused right here.
    if (has_error(codes, ERR_LIB_X509, X509_R_KEY_VALUES_MISMATCH)) return mismatch();
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("cannot load TLS key {}: {}", key, openssl_reason(codes)));
  }
  // A key of another type (EC for an RSA certificate) loads, and only this notices.
  if (SSL_CTX_check_private_key(ctx) != 1) {
    take_openssl_errors();
    return mismatch();
  }
  return {};
}

// What civetweb's init_ssl callback needs; lives in HttpServer::Impl.
struct TlsSetup {
  TlsFiles files;
  std::string error;  // why the callback failed
};

// civetweb calls this inside mg_start2, on the starting thread, with the SSL_CTX it made for
// the port. 1: the context is ready and civetweb loads nothing itself; -1: start fails.
int init_tls(void* ssl_ctx, void* user_data) noexcept {
  auto* setup = static_cast<TlsSetup*>(user_data);
  try {
    auto loaded = load_tls_files(static_cast<SSL_CTX*>(ssl_ctx), setup->files);
    if (loaded) return 1;
    setup->error = loaded.error().message;
  } catch (const std::exception& e) {
    setup->error = e.what();
  }
  return -1;
}
#else
// Windows builds have no OpenSSL for civetweb to load.
constexpr const char* kNoTlsOnWindows =
    "HTTPS for the endpoint (web.tls) is not supported on Windows; serve plain HTTP on "
    "127.0.0.1 behind a TLS-terminating reverse proxy, or remove web.tls";
struct TlsSetup {};
#endif

}  // namespace

Result<void> check_tls_files(const TlsFiles& files) {
#ifdef _WIN32
  (void)files;
  return make_error(ErrorCode::kUnsupported, kNoTlsOnWindows);
#else
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        SSL_CTX_free);
  if (!ctx) {
    return make_error(ErrorCode::kInternal,
                      "cannot create a TLS context: " + openssl_reason(take_openssl_errors()));
  }
  return load_tls_files(ctx.get(), files);
#endif
}

// Opens and closes a TCP connection to host:port, to wake a thread blocked in poll().
void poke(const std::string& host, uint16_t port) {
#ifdef _WIN32
  const SOCKET fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd == INVALID_SOCKET) return;
#else
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
#endif
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host == "0.0.0.0" ? "127.0.0.1" : host.c_str(), &addr.sin_addr) == 1) {
    // Best effort: the connection only has to wake civetweb's poll(); failure is harmless.
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
#ifdef _WIN32
  ::closesocket(fd);
#else
  ::close(fd);
#endif
}

struct HttpServer::Impl {
  mg_context* ctx = nullptr;
  std::string host;
  uint16_t port = 0;
  std::map<std::string, Route> routes;  // stable addresses: civetweb keeps pointers to them
  std::unique_ptr<TlsSetup> tls;

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
    authorization =
        "Basic " + base64_encode(options.basic_auth->first + ":" + options.basic_auth->second);
  }
  for (auto& [path, handler] : routes) {
    const bool open = std::find(options.open_paths.begin(), options.open_paths.end(), path) !=
                      options.open_paths.end();
    impl->routes[path] =
        Route{std::move(handler), open ? std::string() : authorization, options.methods};
  }

  if (options.tls) {
    if (!tls_ready) {
      return make_error(ErrorCode::kUnsupported,
                        fmt::format("cannot serve HTTPS on {}: {}", address, tls_unavailable()));
    }
#ifndef _WIN32
    impl->tls = std::make_unique<TlsSetup>(TlsSetup{*options.tls, {}});
#endif
  }
  // civetweb's "s" suffix makes the port HTTPS only; a plain HTTP client there fails.
  const std::string listening = options.tls ? address + "s" : address;
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
#ifndef _WIN32
  if (impl->tls) {
    callbacks.init_ssl = init_tls;
    init.user_data = impl->tls.get();
  }
#endif
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
#ifndef _WIN32
  if (!impl->ctx && impl->tls && !impl->tls->error.empty()) {
    return make_error(ErrorCode::kInvalidArgument, impl->tls->error);
  }
#endif
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

HttpLibrary::HttpLibrary() {
#ifdef _WIN32
  mg_init_library(0);
  tls_unavailable() = kNoTlsOnWindows;
#else
  // The TLS bit makes civetweb load libssl.so and libcrypto.so now, before any thread, and
  // with OpenSSL 3 it finds them only through the compat library. If that fails, plain HTTP
  // still works and an HTTPS server fails to start, saying why.
  auto compat = load_civetweb_tls_compat();
  tls_ready = (mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS) != 0;
  if (!tls_ready) {
    tls_unavailable() = fmt::format(
        "civetweb could not load OpenSSL; it needs libssl.so and libcrypto.so (Debian's "
        "libssl-dev) and, with OpenSSL 3, {} beside the ddnswatch binary or in ../lib/ddnswatch{}",
        DDNSWATCH_CIVETWEB_TLS_FILE, compat ? " (" + *compat + ")" : "");
  }
#endif
}
HttpLibrary::~HttpLibrary() { mg_exit_library(); }

}  // namespace ddnswatch::exporters
