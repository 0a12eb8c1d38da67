#include "net/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <uv.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <new>

namespace ddnswatch::net {

const char* to_string(TransferError error) {
  switch (error) {
    case TransferError::kNone:
      return "none";
    case TransferError::kResolve:
      return "resolve";
    case TransferError::kConnect:
      return "connect";
    case TransferError::kTimeout:
      return "timeout";
    case TransferError::kTls:
      return "tls";
    case TransferError::kTooLarge:
      return "too_large";
    case TransferError::kProtocol:
      return "protocol";
  }
  return "unknown";
}

std::optional<Duration> parse_retry_after(const std::string& value, WallTime now) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return std::nullopt;
    return std::chrono::seconds(std::stol(value));
  }
  const auto seconds = parse_http_date_seconds(value);
  if (!seconds) return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(*seconds);
  if (when <= now) return Duration::zero();
  return std::chrono::duration_cast<Duration>(when - now);
}

std::optional<std::string> HttpResult::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::string HttpResult::describe() const {
  if (transferred()) return fmt::format("HTTP {}", status);
  return fmt::format("{}: {}", to_string(error), error_message);
}

namespace {

struct Transfer;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

/// A socket curl asked us to watch; freed by libuv's close callback.
struct Socket {
  uv_poll_t poll{};
  curl_socket_t fd = CURL_SOCKET_BAD;
  HttpClient::Impl* client = nullptr;
};

TransferError classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransferError::kResolve;
    case CURLE_COULDNT_CONNECT:
      return TransferError::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransferError::kTimeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
      return TransferError::kTls;
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
      return TransferError::kTooLarge;  // our write callback refused
    default:
      return TransferError::kProtocol;
  }
}

}  // namespace

struct HttpClient::Impl {
  EventLoop& loop;
  uv_loop_t* uv_loop;
  CURLM* multi = nullptr;
  std::unique_ptr<Timer> timer;  // curl's timeout
  std::map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::vector<Socket*> sockets;  // open poll handles, closed on destruction

  explicit Impl(EventLoop& l) : loop(l), uv_loop(static_cast<uv_loop_t*>(l.native_handle())) {}
  ~Impl();

  void add(HttpRequest request, Callback callback);
  void finish(CURL* easy, CURLcode code);
  void drain();
  void on_timeout();
  void close_socket(Socket* s);

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp) noexcept;
  static int on_timer(CURLM* multi, long timeout_ms, void* userp) noexcept;
  static void on_poll(uv_poll_t* handle, int status, int events) noexcept;
};

namespace {

struct Transfer {
  CURL* easy = nullptr;
  HttpRequest request;
  HttpClient::Callback callback;
  std::unique_ptr<curl_slist, CurlSlistDeleter> headers;
  HttpResult result;
  SteadyTime started{};
  char error_buffer[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

size_t on_body(char* data, size_t size, size_t count, void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  size_t n = size * count;
  if (t->result.body.size() + n > t->request.max_response_bytes) {
    t->result.error = TransferError::kTooLarge;
    return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
  }
  try {
    t->result.body.append(data, n);
  } catch (...) {
    return 0;
  }
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t->result.headers.clear();  // a new response (after 100 Continue or a redirect)
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  try {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    t->result.headers.emplace_back(std::move(name), std::string(value));
  } catch (...) {
    return 0;
  }
  return n;
}

/// curl's messages name the host at most; a URL (with its token) is never quoted, except by
/// CURLE_URL_MALFORMAT, which gets our own words.
std::string error_text(CURLcode code, const char* buffer) {
  if (code == CURLE_URL_MALFORMAT) return "the URL is malformed";
  if (buffer != nullptr && buffer[0] != '\0') return buffer;
  return curl_easy_strerror(code);
}

}  // namespace

HttpClient::Impl::~Impl() {
  // Without callbacks: the owner is going away.
  for (auto& [easy, t] : transfers) curl_multi_remove_handle(multi, easy);
  transfers.clear();
  for (Socket* s : sockets) {
    uv_poll_stop(&s->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&s->poll),
             [](uv_handle_t* h) { delete static_cast<Socket*>(h->data); });
  }
  if (multi != nullptr) curl_multi_cleanup(multi);
}

void HttpClient::Impl::close_socket(Socket* s) {
  sockets.erase(std::remove(sockets.begin(), sockets.end(), s), sockets.end());
  uv_poll_stop(&s->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->poll),
           [](uv_handle_t* h) { delete static_cast<Socket*>(h->data); });
}

int HttpClient::Impl::on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp,
                                void* socketp) noexcept {
  auto* self = static_cast<Impl*>(userp);
  auto* s = static_cast<Socket*>(socketp);
  if (what == CURL_POLL_REMOVE) {
    if (s != nullptr) {
      curl_multi_assign(self->multi, fd, nullptr);
      self->close_socket(s);
    }
    return 0;
  }
  if (s == nullptr) {
    s = new (std::nothrow) Socket;
    if (s == nullptr) return -1;  // curl fails the transfer
    s->fd = fd;
    s->client = self;
    s->poll.data = s;
    if (uv_poll_init_socket(self->uv_loop, &s->poll, fd) != 0) {
      delete s;
      return -1;
    }
    try {
      self->sockets.push_back(s);
    } catch (...) {
      uv_close(reinterpret_cast<uv_handle_t*>(&s->poll),
               [](uv_handle_t* h) { delete static_cast<Socket*>(h->data); });
      return -1;
    }
    curl_multi_assign(self->multi, fd, s);
  }
  int events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= UV_READABLE;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= UV_WRITABLE;
  uv_poll_start(&s->poll, events, &Impl::on_poll);
  return 0;
}

int HttpClient::Impl::on_timer(CURLM* /*multi*/, long timeout_ms, void* userp) noexcept {
  auto* self = static_cast<Impl*>(userp);
  if (timeout_ms < 0) {
    self->timer->stop();
  } else {
    // Zero means "now", but curl must not be re-entered from its own callback: the timer
    // fires on the next loop iteration.
    self->timer->start(Duration(timeout_ms));
  }
  return 0;
}

void HttpClient::Impl::on_poll(uv_poll_t* handle, int status, int events) noexcept {
  auto* s = static_cast<Socket*>(handle->data);
  Impl* self = s->client;
  int flags = 0;
  if (status < 0) {
    flags = CURL_CSELECT_ERR;
  } else {
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  }
  int running = 0;
  // `s` may be closed inside this call.
  curl_multi_socket_action(self->multi, s->fd, flags, &running);
  self->drain();
}

void HttpClient::Impl::on_timeout() {
  int running = 0;
  curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
  drain();
}

void HttpClient::Impl::drain() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    finish(msg->easy_handle, msg->data.result);
  }
}

void HttpClient::Impl::finish(CURL* easy, CURLcode code) {
  auto it = transfers.find(easy);
  if (it == transfers.end()) return;
  std::unique_ptr<Transfer> t = std::move(it->second);
  transfers.erase(it);
  curl_multi_remove_handle(multi, easy);
  HttpResult result = std::move(t->result);
  result.elapsed =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - t->started);
  if (code == CURLE_OK) {
    result.error = TransferError::kNone;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
  } else {
    if (result.error != TransferError::kTooLarge) result.error = classify(code);
    result.error_message =
        result.error == TransferError::kTooLarge
            ? fmt::format("the response is larger than {} bytes", t->request.max_response_bytes)
            : error_text(code, t->error_buffer);
    result.status = 0;
    result.body.clear();
  }
  Callback callback = std::move(t->callback);
  t.reset();  // cleans the easy handle before the callback, which may send again
  if (callback) callback(std::move(result));
}

void HttpClient::Impl::add(HttpRequest request, Callback callback) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->callback = std::move(callback);
  t->started = std::chrono::steady_clock::now();
  auto fail_later = [this](Transfer& tr, std::string message) {
    HttpResult r;
    r.error = TransferError::kProtocol;
    r.error_message = std::move(message);
    loop.post([cb = std::move(tr.callback), r = std::move(r)]() mutable {
      if (cb) cb(std::move(r));
    });
  };
  t->easy = curl_easy_init();
  if (t->easy == nullptr) {
    fail_later(*t, "cannot create a curl handle");
    return;
  }
  CURL* e = t->easy;
  const HttpRequest& rq = t->request;
  curl_easy_setopt(e, CURLOPT_URL, rq.url.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(rq.timeout.count()));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(rq.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (rq.ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, rq.ca_file->c_str());
  if (rq.ip_resolve != IpResolve::kAny) {
    curl_easy_setopt(e, CURLOPT_IPRESOLVE,
                     rq.ip_resolve == IpResolve::kIpv4 ? CURL_IPRESOLVE_V4 : CURL_IPRESOLVE_V6);
  }
  curl_easy_setopt(e, CURLOPT_USERAGENT, "ddnswatch/" DDNSWATCH_VERSION_STRING);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
  if (rq.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (rq.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    if (rq.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq.method.c_str());
    if (rq.method == "POST" || !rq.body.empty()) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(rq.body.size()));
    }
  }
  curl_slist* list = nullptr;
  // curl would send "Expect: 100-continue" for larger bodies and wait a second for it.
  list = curl_slist_append(list, "Expect:");
  for (const auto& [name, value] : rq.headers) {
    std::string line = name + ": " + value;
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) {
      curl_slist_free_all(list);
      fail_later(*t, "out of memory building the request headers");
      return;
    }
    list = next;
  }
  t->headers.reset(list);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);

  CURL* key = t->easy;
  transfers.emplace(key, std::move(t));
  CURLMcode mc = curl_multi_add_handle(multi, key);
  if (mc != CURLM_OK) {
    auto node = transfers.extract(key);
    fail_later(*node.mapped(),
               fmt::format("cannot start the transfer: {}", curl_multi_strerror(mc)));
  }
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::create(EventLoop& loop) {
  auto impl = std::make_unique<Impl>(loop);
  impl->multi = curl_multi_init();
  if (impl->multi == nullptr) {
    return make_error(ErrorCode::kInternal, "cannot create a curl multi handle");
  }
  Impl* raw = impl.get();
  impl->timer = loop.make_timer([raw] { raw->on_timeout(); });
  curl_multi_setopt(impl->multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
  curl_multi_setopt(impl->multi, CURLMOPT_SOCKETDATA, raw);
  curl_multi_setopt(impl->multi, CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
  curl_multi_setopt(impl->multi, CURLMOPT_TIMERDATA, raw);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

void HttpClient::send(HttpRequest request, Callback callback) {
  impl_->add(std::move(request), std::move(callback));
}

size_t HttpClient::in_flight() const { return impl_->transfers.size(); }

}  // namespace ddnswatch::net
