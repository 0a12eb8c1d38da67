#include "support/hostile_dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <optional>
#include <random>
#include <vector>

namespace ddnswatch::testing {
namespace {

using Bytes = std::vector<uint8_t>;
using SteadyClock = std::chrono::steady_clock;

constexpr std::array<std::pair<HostileMode, const char*>, 26> kModeNames = {{
    {HostileMode::kGood, "good"},
    {HostileMode::kSilent, "silent"},
    {HostileMode::kRandomBytes, "random-bytes"},
    {HostileMode::kGarbageBody, "garbage-body"},
    {HostileMode::kWrongId, "wrong-id"},
    {HostileMode::kOtherName, "other-name"},
    {HostileMode::kOtherType, "other-type"},
    {HostileMode::kCutRecord, "cut-record"},
    {HostileMode::kShortAddress, "short-address"},
    {HostileMode::kTruncatedThenGood, "tc-then-good"},
    {HostileMode::kTruncatedThenCut, "tc-then-cut"},
    {HostileMode::kTruncatedThenClose, "tc-then-close"},
    {HostileMode::kTruncatedThenHuge, "tc-then-huge"},
    {HostileMode::kTtlZero, "ttl-zero"},
    {HostileMode::kTtlMax, "ttl-max"},
    {HostileMode::kTtlTopBit, "ttl-top-bit"},
    {HostileMode::kManyRecords, "many-records"},
    {HostileMode::kLate, "late"},
    {HostileMode::kLateAfterFresh, "late-after-fresh"},
    {HostileMode::kNotAResponse, "not-a-response"},
    {HostileMode::kOpcodeMismatch, "opcode-mismatch"},
    {HostileMode::kPointerLoop, "pointer-loop"},
    {HostileMode::kQuestionLoop, "question-loop"},
    {HostileMode::kLabelOverflow, "label-overflow"},
    {HostileMode::kNameTooLong, "name-too-long"},
    {HostileMode::kServFail, "servfail"},
}};

constexpr uint16_t kQr = 0x8000;
constexpr uint16_t kOpcodeMask = 0x7800;
constexpr uint16_t kAa = 0x0400;
constexpr uint16_t kTc = 0x0200;
constexpr uint16_t kRd = 0x0100;
constexpr uint16_t kRa = 0x0080;
constexpr uint32_t kGoodTtl = 300;

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v & 0xff));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v & 0xffff));
}
uint16_t get16(const Bytes& b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}

/// What the server needs of a query (c-ares writes the question's name uncompressed).
struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;
  Bytes question;  // name, type and class as sent
  std::string first_label;
  uint16_t qtype = 0;
};

std::optional<Query> parse_query(const Bytes& m) {
  if (m.size() < 12 || get16(m, 4) != 1) return std::nullopt;
  Query q;
  q.id = get16(m, 0);
  q.flags = get16(m, 2);
  size_t at = 12;
  while (at < m.size() && m[at] != 0) {
    const size_t length = m[at];
    if (length > 63 || at + 1 + length > m.size()) return std::nullopt;
    if (at == 12) q.first_label.assign(reinterpret_cast<const char*>(&m[at + 1]), length);
    at += 1 + length;
  }
  if (at + 5 > m.size()) return std::nullopt;
  q.question.assign(m.begin() + 12, m.begin() + static_cast<std::ptrdiff_t>(at + 5));
  q.qtype = get16(m, at + 1);
  return q;
}

/// The header of a reply to `q`: QR, the query's opcode and RD, AA, RA and `rcode`.
Bytes header(const Query& q, uint16_t rcode, uint16_t answers, uint16_t extra_flags = 0) {
  Bytes b;
  put16(b, q.id);
  put16(b, static_cast<uint16_t>(kQr | (q.flags & (kOpcodeMask | kRd)) | kAa | kRa | rcode |
                                 extra_flags));
  put16(b, 1);
  put16(b, answers);
  put16(b, 0);
  put16(b, 0);
  return b;
}

/// An A record whose owner is the question's name (a pointer to offset 12).
void put_a(Bytes& b, uint32_t ttl, const std::array<uint8_t, 4>& address) {
  put16(b, 0xc00c);
  put16(b, 1);
  put16(b, 1);
  put32(b, ttl);
  put16(b, 4);
  b.insert(b.end(), address.begin(), address.end());
}

std::array<uint8_t, 4> nth_address(size_t n) {
  return {198, 18, static_cast<uint8_t>(n / 256), static_cast<uint8_t>(n % 256)};
}

/// The answer to `q` with `count` A records (none unless an A question), TTL `ttl`.
Bytes answer(const Query& q, const std::array<uint8_t, 4>& address, uint32_t ttl,
             size_t count = 1) {
  const bool a = q.qtype == 1;
  const size_t n = a ? count : 0;
  Bytes b = header(q, 0, static_cast<uint16_t>(n));
  b.insert(b.end(), q.question.begin(), q.question.end());
  for (size_t i = 0; i < n; ++i) put_a(b, ttl, count == 1 ? address : nth_address(i));
  return b;
}

void set_flags(Bytes& b, uint16_t clear, uint16_t set) {
  const uint16_t flags = static_cast<uint16_t>((get16(b, 2) & ~clear) | set);
  b[2] = static_cast<uint8_t>(flags >> 8);
  b[3] = static_cast<uint8_t>(flags & 0xff);
}

Bytes frame(const Bytes& message) {
  Bytes b;
  put16(b, static_cast<uint16_t>(message.size()));
  b.insert(b.end(), message.begin(), message.end());
  return b;
}

}  // namespace

const char* to_string(HostileMode mode) {
  for (const auto& [m, name] : kModeNames) {
    if (m == mode) return name;
  }
  return "?";
}

std::optional<HostileMode> parse_hostile_mode(std::string_view text) {
  for (const auto& [m, name] : kModeNames) {
    if (text == name) return m;
  }
  return std::nullopt;
}

/// The serving thread's own data.
struct HostileDnsServer::State {
  struct Connection {
    int fd = -1;
    Bytes in;
  };
  struct Delayed {
    SteadyClock::time_point due;
    sockaddr_in peer{};
    Bytes message;
  };
  struct Held {
    sockaddr_in peer{};
    Bytes message;
  };

  std::array<uint8_t, 4> address{};
  std::mt19937 random{20250101};
  std::vector<Connection> connections;
  std::vector<Delayed> delayed;  // UDP replies sent later
  std::optional<Held> held;      // kLateAfterFresh's query, waiting for the next one

  Bytes random_bytes(size_t min, size_t max) {
    std::uniform_int_distribution<size_t> length(min, max);
    std::uniform_int_distribution<int> byte(0, 255);
    Bytes b(length(random));
    for (auto& v : b) v = static_cast<uint8_t>(byte(random));
    return b;
  }
};

HostileDnsServer::HostileDnsServer(HostileDnsOptions options) : options_(std::move(options)) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, options_.address.c_str(), &addr.sin_addr) != 1) return;
  // The kernel picks the UDP port; TCP takes the same number (rarely taken: a few tries).
  for (int attempt = 0; attempt < 20 && !ok(); ++attempt) {
    if (udp_ >= 0) ::close(udp_);
    if (tcp_ >= 0) ::close(tcp_);
    udp_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    tcp_ = ::socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_port = 0;
    socklen_t length = sizeof addr;
    if (udp_ < 0 || tcp_ < 0 ||
        ::bind(udp_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(udp_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      continue;
    }
    const int yes = 1;
    ::setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(tcp_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(tcp_, 16) != 0) {
      ::close(tcp_);
      tcp_ = -1;
      continue;
    }
    port_ = ntohs(addr.sin_port);
  }
  if (!ok()) return;
  thread_ = std::thread([this] { serve(); });
}

HostileDnsServer::~HostileDnsServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (udp_ >= 0) ::close(udp_);
  if (tcp_ >= 0) ::close(tcp_);
}

std::vector<uint16_t> HostileDnsServer::query_ids() const {
  const std::lock_guard lock(ids_mu_);
  return query_ids_;
}

void HostileDnsServer::serve() {
  State st;
  ::inet_pton(AF_INET, options_.answer.c_str(), st.address.data());
  std::array<uint8_t, 4> next_address = st.address;
  next_address[3] = static_cast<uint8_t>(next_address[3] + 1);

  auto send_udp = [this](const sockaddr_in& peer, const Bytes& m) {
    ::sendto(udp_, m.data(), m.size(), 0, reinterpret_cast<const sockaddr*>(&peer), sizeof peer);
  };
  auto mode_of = [this](const Query& q) {
    return parse_hostile_mode(q.first_label).value_or(options_.mode);
  };

  // The reply to a query in `mode` (the same over UDP and TCP unless TC is involved); empty
  // for no reply.
  auto reply = [&](const Query& q, HostileMode mode) -> Bytes {
    switch (mode) {
      case HostileMode::kGood:
      case HostileMode::kLate:
      case HostileMode::kLateAfterFresh:
      case HostileMode::kTruncatedThenGood:
        return answer(q, st.address, kGoodTtl);
      case HostileMode::kSilent:
        return {};
      case HostileMode::kRandomBytes:
        return st.random_bytes(1, 600);
      case HostileMode::kGarbageBody: {
        Bytes b = header(q, 0, 3);
        b.insert(b.end(), q.question.begin(), q.question.end());
        const Bytes garbage = st.random_bytes(40, 40);
        b.insert(b.end(), garbage.begin(), garbage.end());
        return b;
      }
      case HostileMode::kWrongId: {
        Bytes b = answer(q, st.address, kGoodTtl);
        b[0] = static_cast<uint8_t>(b[0] ^ 0x5a);
        return b;
      }
      case HostileMode::kOtherName: {
        Query other = q;
        const uint8_t prefix[] = {5, 'o', 't', 'h', 'e', 'r'};
        other.question.insert(other.question.begin(), std::begin(prefix), std::end(prefix));
        return answer(other, st.address, kGoodTtl);
      }
      case HostileMode::kOtherType: {
        Bytes b = answer(q, st.address, kGoodTtl);
        const size_t type_at = 12 + q.question.size() - 4;
        b[type_at] = 0;
        b[type_at + 1] = q.qtype == 28 ? 1 : 28;
        return b;
      }
      case HostileMode::kCutRecord: {
        Bytes b = answer(q, st.address, kGoodTtl);
        if (q.qtype == 1) b.resize(b.size() - 2);
        return b;
      }
      case HostileMode::kShortAddress: {
        Bytes b = answer(q, st.address, kGoodTtl);
        if (q.qtype == 1) {
          b.pop_back();
          b[b.size() - 4] = 3;  // RDLENGTH
        }
        return b;
      }
      case HostileMode::kTruncatedThenCut:
      case HostileMode::kTruncatedThenClose:
      case HostileMode::kTruncatedThenHuge: {
        Bytes b = header(q, 0, 0, kTc);
        b.insert(b.end(), q.question.begin(), q.question.end());
        return b;
      }
      case HostileMode::kTtlZero:
        return answer(q, st.address, 0);
      case HostileMode::kTtlMax:
        return answer(q, st.address, 0x7fffffffu);
      case HostileMode::kTtlTopBit:
        return answer(q, st.address, 0x80000005u);
      case HostileMode::kManyRecords:
        return answer(q, st.address, kGoodTtl, 300);
      case HostileMode::kNotAResponse: {
        Bytes b = answer(q, st.address, kGoodTtl);
        set_flags(b, kQr, 0);
        return b;
      }
      case HostileMode::kOpcodeMismatch: {
        Bytes b = answer(q, st.address, kGoodTtl);
        set_flags(b, kOpcodeMask, 2 << 11);
        return b;
      }
      case HostileMode::kPointerLoop:
      case HostileMode::kLabelOverflow:
      case HostileMode::kNameTooLong: {
        Bytes b = header(q, 0, 1);
        b.insert(b.end(), q.question.begin(), q.question.end());
        const size_t owner_at = b.size();
        if (mode == HostileMode::kPointerLoop) {
          put16(b, static_cast<uint16_t>(0xc000 | owner_at));
        } else if (mode == HostileMode::kLabelOverflow) {
          b.push_back(63);  // a label of 63 bytes, of which 5 follow before the message ends
          b.insert(b.end(), 5, 'x');
          return b;
        } else {
          for (int i = 0; i < 5; ++i) {
            b.push_back(63);
            b.insert(b.end(), 63, 'a');
          }
          b.push_back(0);
        }
        put16(b, 1);
        put16(b, 1);
        put32(b, kGoodTtl);
        put16(b, 4);
        b.insert(b.end(), st.address.begin(), st.address.end());
        return b;
      }
      case HostileMode::kQuestionLoop: {
        Bytes b = header(q, 0, 1);
        put16(b, 0xc00c);  // the question's name points at itself
        b.insert(b.end(), q.question.end() - 4, q.question.end());
        put_a(b, kGoodTtl, st.address);
        return b;
      }
      case HostileMode::kServFail: {
        Bytes b = header(q, 2, 0);
        b.insert(b.end(), q.question.begin(), q.question.end());
        return b;
      }
    }
    return {};
  };

  auto on_udp = [&] {
    Bytes m(1500);
    sockaddr_in peer{};
    socklen_t peer_length = sizeof peer;
    const ssize_t n =
        ::recvfrom(udp_, m.data(), m.size(), 0, reinterpret_cast<sockaddr*>(&peer), &peer_length);
    if (n <= 0) return;
    m.resize(static_cast<size_t>(n));
    const auto q = parse_query(m);
    if (!q) return;
    ++udp_queries_;
    {
      const std::lock_guard lock(ids_mu_);
      query_ids_.push_back(q->id);
    }
    const HostileMode mode = mode_of(*q);
    if (mode == HostileMode::kTruncatedThenGood) {
      Bytes b = header(*q, 0, 0, kTc);
      b.insert(b.end(), q->question.begin(), q->question.end());
      send_udp(peer, b);
      return;
    }
    Bytes r = reply(*q, mode);
    if (r.empty()) return;
    if (mode == HostileMode::kLate) {
      st.delayed.push_back({SteadyClock::now() + options_.late_delay, peer, std::move(r)});
    } else if (mode == HostileMode::kLateAfterFresh && !st.held) {
      st.held = State::Held{peer, answer(*q, next_address, kGoodTtl)};
    } else {
      if (mode == HostileMode::kLateAfterFresh) {
        send_udp(st.held->peer, st.held->message);
        st.held.reset();
      }
      send_udp(peer, r);
    }
  };

  // One complete query from a TCP connection; false when the connection is to be closed.
  auto on_tcp_query = [&](State::Connection& c, const Bytes& m) {
    const auto q = parse_query(m);
    if (!q) return false;
    ++tcp_queries_;
    const HostileMode mode = mode_of(*q);
    Bytes out;
    switch (mode) {
      case HostileMode::kTruncatedThenClose:
        return false;
      case HostileMode::kTruncatedThenCut: {
        out = frame(answer(*q, st.address, kGoodTtl));
        out.resize(out.size() / 2);
        ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL);
        return false;
      }
      case HostileMode::kTruncatedThenHuge: {
        const size_t fits = (65535 - 12 - q->question.size()) / 16;
        out = frame(answer(*q, st.address, kGoodTtl, fits));
        break;
      }
      default: {
        const Bytes r = reply(*q, mode);
        if (r.empty()) return true;
        out = frame(r);
      }
    }
    // Blocking socket: a large answer goes out in as many writes as the peer reads.
    size_t sent = 0;
    while (sent < out.size()) {
      const ssize_t n = ::send(c.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  };

  auto on_connection = [&](State::Connection& c) {
    uint8_t buffer[4096];
    const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    c.in.insert(c.in.end(), buffer, buffer + n);
    while (c.in.size() >= 2 && c.in.size() >= 2u + get16(c.in, 0)) {
      const size_t length = get16(c.in, 0);
      const Bytes m(c.in.begin() + 2, c.in.begin() + 2 + static_cast<std::ptrdiff_t>(length));
      c.in.erase(c.in.begin(), c.in.begin() + 2 + static_cast<std::ptrdiff_t>(length));
      if (!on_tcp_query(c, m)) return false;
    }
    return true;
  };

  while (!stop_) {
    std::vector<pollfd> fds = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
    for (const auto& c : st.connections) fds.push_back({c.fd, POLLIN, 0});
    int wait_ms = 10;
    const auto now = SteadyClock::now();
    for (const auto& d : st.delayed) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(d.due - now).count();
      wait_ms = std::clamp(static_cast<int>(left), 0, wait_ms);
    }
    if (::poll(fds.data(), fds.size(), wait_ms) < 0) continue;

    const auto after = SteadyClock::now();
    for (auto it = st.delayed.begin(); it != st.delayed.end();) {
      if (it->due <= after) {
        send_udp(it->peer, it->message);
        it = st.delayed.erase(it);
      } else {
        ++it;
      }
    }
    if (fds[0].revents & POLLIN) on_udp();
    if (fds[1].revents & POLLIN) {
      const int fd = ::accept(tcp_, nullptr, nullptr);
      if (fd >= 0) st.connections.push_back({fd, {}});
    }
    // Connections in fds[2...] are the first ones of st.connections (new ones come last).
    for (size_t i = 2; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      auto it = std::find_if(st.connections.begin(), st.connections.end(),
                             [&](const State::Connection& c) { return c.fd == fds[i].fd; });
      if (it == st.connections.end() || on_connection(*it)) continue;
      ::close(it->fd);
      st.connections.erase(it);
    }
  }
  for (const auto& c : st.connections) ::close(c.fd);
}

}  // namespace ddnswatch::testing
