#include "providers/dns_exchange.h"

#include <fmt/format.h>
#include <uv.h>

#include <charconv>
#include <cstring>

#include "core/inet.h"
#include "providers/dns_wire.h"

namespace ddnswatch::providers {
namespace {

constexpr size_t kUdpBuffer = 65536;

// Each libuv handle lives in its own heap block that only libuv's close callback frees, so an
// exchange can be destroyed at any moment (even from inside its own callback): it detaches its
// sockets (owner = nullptr) and closes them; callbacks that still arrive see no owner.
struct UdpSocket {
  uv_udp_t handle{};
  std::string in = std::string(kUdpBuffer, '\0');
  DnsExchange::Impl* owner = nullptr;
};

struct TcpConn {
  uv_tcp_t handle{};
  uv_connect_t connect_req{};
  uv_write_t write_req{};
  std::string out;  // the request with its two-byte length prefix
  std::string in;
  char chunk[4096];
  DnsExchange::Impl* owner = nullptr;
};

struct SendRequest {
  uv_udp_send_t req{};
  UdpSocket* socket = nullptr;
};

std::string uv_text(int rc) { return uv_strerror(rc); }

}  // namespace

std::string ServerAddress::to_string() const {
  return ip.find(':') != std::string::npos ? fmt::format("[{}]:{}", ip, port)
                                           : fmt::format("{}:{}", ip, port);
}

Result<ServerAddress> parse_server_address(const std::string& text) {
  ServerAddress out;
  std::string host = text;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument, fmt::format("\"{}\": missing ]", text));
    }
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("\"{}\" is not [IPv6]:PORT", text));
      }
      port = text.substr(close + 2);
    }
  } else if (auto colon = text.find(':');
             colon != std::string::npos && text.find(':', colon + 1) == std::string::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned char buf[16];
  bool v6 = host.find(':') != std::string::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), buf) != 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("\"{}\" is not an IP address with an optional port", text));
  }
  out.ip = host;
  if (!port.empty() || text.back() == ':') {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("\"{}\": the port is not a number from 1 to 65535", text));
    }
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

struct DnsExchange::Impl {
  uv_loop_t* loop = nullptr;
  ServerAddress server;
  sockaddr_storage addr{};
  std::string request;
  ExchangeOptions options;
  Callback callback;
  std::unique_ptr<Timer> timer;
  UdpSocket* udp = nullptr;
  TcpConn* tcp = nullptr;
  bool address_ok = false;
  bool started = false;
  bool over_tcp = false;
  int attempt = 0;
  int ignored = 0;  // answers that did not match the request

  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&addr); }

  void on_timer() {
    if (!address_ok) return fail(fmt::format("\"{}\" is not an IP address", server.ip));
    if (!started) {
      started = true;
      next_attempt();
    } else if (attempt < options.tries) {
      next_attempt();
    } else {
      std::string extra =
          ignored > 0 ? fmt::format(" ({} answers that did not match the request ignored)", ignored)
                      : "";
      fail(fmt::format("no answer from {}{} within {} {} of {} ms{}", server.to_string(),
                       over_tcp ? " over TCP" : "", options.tries,
                       options.tries == 1 ? "try" : "tries", options.timeout.count(), extra));
    }
  }

  void next_attempt() {
    ++attempt;
    timer->start(options.timeout);
    if (over_tcp) {
      close_tcp();
      open_tcp();
    } else if (udp == nullptr) {
      open_udp();
    } else {
      send_udp();
    }
  }

  void open_udp() {
    auto* s = new UdpSocket();
    s->handle.data = s;
    if (int rc = uv_udp_init(loop, &s->handle); rc != 0) {
      delete s;
      return fail("cannot open a UDP socket: " + uv_text(rc));
    }
    s->owner = this;
    udp = s;
    // A connected socket hears "port unreachable" and ignores datagrams from anyone else.
    if (int rc = uv_udp_connect(&s->handle, address()); rc != 0) {
      return fail(fmt::format("cannot reach {}: {}", server.to_string(), uv_text(rc)));
    }
    int rc = uv_udp_recv_start(
        &s->handle,
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* sock = static_cast<UdpSocket*>(h->data);
          *buf = uv_buf_init(sock->in.data(), static_cast<unsigned>(sock->in.size()));
        },
        [](uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr*, unsigned flags) {
          auto* sock = static_cast<UdpSocket*>(h->data);
          if (sock->owner == nullptr || nread == 0) return;
          if (nread < 0) {
            return sock->owner->fail(network_error(sock->owner->server, static_cast<int>(nread)));
          }
          if ((flags & UV_UDP_PARTIAL) != 0) return;  // larger than any DNS datagram
          sock->owner->on_answer(std::string_view(buf->base, static_cast<size_t>(nread)), false);
        });
    if (rc != 0) return fail("cannot read from a UDP socket: " + uv_text(rc));
    send_udp();
  }

  void send_udp() {
    auto* req = new SendRequest();
    req->socket = udp;
    req->req.data = req;
    uv_buf_t buf = uv_buf_init(request.data(), static_cast<unsigned>(request.size()));
    int rc =
        uv_udp_send(&req->req, &udp->handle, &buf, 1, nullptr, [](uv_udp_send_t* r, int status) {
          auto* send = static_cast<SendRequest*>(r->data);
          UdpSocket* sock = send->socket;
          delete send;
          if (status < 0 && status != UV_ECANCELED && sock->owner != nullptr) {
            sock->owner->fail(network_error(sock->owner->server, status));
          }
        });
    if (rc != 0) {
      delete req;
      fail(network_error(server, rc));
    }
  }

  void open_tcp() {
    auto* c = new TcpConn();
    c->handle.data = c;
    c->connect_req.data = c;
    c->write_req.data = c;
    if (int rc = uv_tcp_init(loop, &c->handle); rc != 0) {
      delete c;
      return fail("cannot open a TCP socket: " + uv_text(rc));
    }
    c->owner = this;
    tcp = c;
    dns::put16(c->out, static_cast<uint16_t>(request.size()));
    c->out += request;
    int rc =
        uv_tcp_connect(&c->connect_req, &c->handle, address(), [](uv_connect_t* r, int status) {
          auto* conn = static_cast<TcpConn*>(r->data);
          if (conn->owner == nullptr) return;
          if (status < 0)
            return conn->owner->fail(network_error(conn->owner->server, status, true));
          conn->owner->on_tcp_connected();
        });
    if (rc != 0) fail(network_error(server, rc, true));
  }

  void on_tcp_connected() {
    TcpConn* c = tcp;
    auto* stream = reinterpret_cast<uv_stream_t*>(&c->handle);
    uv_buf_t buf = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
    int rc = uv_write(&c->write_req, stream, &buf, 1, [](uv_write_t* r, int status) {
      auto* conn = static_cast<TcpConn*>(r->data);
      if (status < 0 && status != UV_ECANCELED && conn->owner != nullptr) {
        conn->owner->fail(network_error(conn->owner->server, status, true));
      }
    });
    if (rc != 0) return fail(network_error(server, rc, true));
    rc = uv_read_start(
        stream,
        [](uv_handle_t* h, size_t, uv_buf_t* b) {
          auto* conn = static_cast<TcpConn*>(h->data);
          *b = uv_buf_init(conn->chunk, sizeof conn->chunk);
        },
        [](uv_stream_t* s, ssize_t nread, const uv_buf_t* b) {
          auto* conn = static_cast<TcpConn*>(s->data);
          if (conn->owner == nullptr || nread == 0) return;
          if (nread < 0) {
            Impl* owner = conn->owner;
            return owner->fail(nread == UV_EOF
                                   ? fmt::format("{} closed the TCP connection without an answer",
                                                 owner->server.to_string())
                                   : network_error(owner->server, static_cast<int>(nread), true));
          }
          conn->in.append(b->base, static_cast<size_t>(nread));
          conn->owner->on_tcp_data();
        });
    if (rc != 0) fail(network_error(server, rc, true));
  }

  void on_tcp_data() {
    // Answers that belong to someone else are skipped; the connection is ours alone, so that
    // only happens with a broken server, but it must not be taken for our answer.
    while (tcp != nullptr && tcp->in.size() >= 2) {
      size_t len = (static_cast<uint8_t>(tcp->in[0]) << 8) | static_cast<uint8_t>(tcp->in[1]);
      if (tcp->in.size() < 2 + len) return;
      std::string message = tcp->in.substr(2, len);
      tcp->in.erase(0, 2 + len);
      if (on_answer(message, true)) return;
    }
  }

  /// True when the exchange ended (the callback ran; `this` may be gone).
  bool on_answer(std::string_view message, bool via_tcp) {
    if (!dns::answers_request(request, message)) {
      ++ignored;
      return false;
    }
    auto header = dns::parse_header(message);
    if (!via_tcp && header->tc) {
      // Truncated: the whole answer only comes over TCP, with fresh tries.
      over_tcp = true;
      attempt = 0;
      close_udp();
      next_attempt();
      return false;
    }
    finish(ExchangeReply{std::string(message), via_tcp});
    return true;
  }

  static std::string network_error(const ServerAddress& server, int rc, bool via_tcp = false) {
    if (rc == UV_ECONNREFUSED) {
      return fmt::format("{} refused the {} (nothing listens there)", server.to_string(),
                         via_tcp ? "TCP connection" : "query");
    }
    return fmt::format("cannot talk to {}{}: {}", server.to_string(), via_tcp ? " over TCP" : "",
                       uv_text(rc));
  }

  void fail(std::string message) { finish(make_error(ErrorCode::kIo, std::move(message))); }

  /// Ends the exchange. Touches nothing of `this` after the callback: it may destroy us.
  void finish(Result<ExchangeReply> result) {
    if (!callback) return;
    timer->stop();
    close_udp();
    close_tcp();
    Callback done = std::move(callback);
    callback = nullptr;
    done(std::move(result));
  }

  void close_udp() {
    if (udp == nullptr) return;
    udp->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&udp->handle),
             [](uv_handle_t* h) { delete static_cast<UdpSocket*>(h->data); });
    udp = nullptr;
  }

  void close_tcp() {
    if (tcp == nullptr) return;
    tcp->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp->handle),
             [](uv_handle_t* h) { delete static_cast<TcpConn*>(h->data); });
    tcp = nullptr;
  }
};

std::unique_ptr<DnsExchange> DnsExchange::start(EventLoop& loop, const ServerAddress& server,
                                                std::string request, ExchangeOptions options,
                                                Callback callback) {
  auto impl = std::make_unique<Impl>();
  impl->loop = static_cast<uv_loop_t*>(loop.native_handle());
  impl->server = server;
  impl->request = std::move(request);
  impl->options = options;
  if (impl->options.tries < 1) impl->options.tries = 1;
  impl->callback = std::move(callback);
  bool v6 = server.ip.find(':') != std::string::npos;
  int rc =
      v6 ? uv_ip6_addr(server.ip.c_str(), server.port, reinterpret_cast<sockaddr_in6*>(&impl->addr))
         : uv_ip4_addr(server.ip.c_str(), server.port, reinterpret_cast<sockaddr_in*>(&impl->addr));
  impl->address_ok = rc == 0;
  Impl* raw = impl.get();
  // The first try starts from the timer too, so that even an immediate failure (a bad
  // address, no sockets left) reaches the callback later, never inside start().
  impl->timer = loop.make_timer([raw] { raw->on_timer(); });
  impl->timer->start(Duration::zero());
  return std::unique_ptr<DnsExchange>(new DnsExchange(std::move(impl)));
}

DnsExchange::DnsExchange(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DnsExchange::~DnsExchange() {
  impl_->callback = nullptr;
  impl_->close_udp();
  impl_->close_tcp();
}

}  // namespace ddnswatch::providers
