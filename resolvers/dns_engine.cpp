#include "resolvers/dns_engine.h"

#include <ares.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <uv.h>
#ifndef _WIN32
#include <sys/socket.h>
#endif

#include <array>
#include <cstring>
#include <deque>
#include <map>
#include <new>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/crypto.h"
#include "core/inet.h"
#include "resolvers/batched_io.h"
#include "resolvers/dns_message.h"
#include "resolvers/token_bucket.h"

namespace ddnswatch::resolvers {
namespace {

struct ChannelDeleter {
  void operator()(ares_channel channel) const { ares_destroy(channel); }
};
using ChannelPtr = std::unique_ptr<std::remove_pointer_t<ares_channel>, ChannelDeleter>;

/// Query ids for the queries the engine builds itself: unpredictable (RFC 5452 section 9.2),
/// from the system's CSPRNG, 2048 per draw. Two queries in flight may share an id: c-ares
/// matches an answer by id and question, so only the same question could take the other's
/// answer, which then says the same. Loop thread only.
class QueryIds {
 public:
  /// Nothing when the system gives no random bytes (then ares_query picks the id).
  std::optional<uint16_t> next() {
    if (used_ == ids_.size()) {
      if (!random_bytes(ids_.data(), sizeof ids_)) return std::nullopt;
      used_ = 0;
    }
    return ids_[used_++];
  }

 private:
  std::array<uint16_t, 2048> ids_{};
  size_t used_ = ids_.size();
};

}  // namespace

namespace {

using Callback = DnsEngine::Callback;
struct EngineCore;
struct Channel;

/// A query waiting in the engine or in flight in c-ares.
struct Pending {
  Channel* channel = nullptr;
  Question question;
  Callback callback;
  SteadyTime sent{};
};

/// A socket c-ares asked us to watch; freed by libuv's close callback.
struct Socket {
  uv_poll_t poll{};
  Channel* channel = nullptr;
  ares_socket_t fd = ARES_SOCKET_BAD;
  bool stream = false;     // TCP
  bool connected = false;  // TCP, seen with a peer at least once
};

bool is_stream(ares_socket_t fd) {
  int type = 0;
  socklen_t length = sizeof type;
  return getsockopt(fd, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &length) == 0 &&
         type == SOCK_STREAM;
}

/// Whether the TCP socket `fd` got connected (a refused connect leaves it without a peer).
bool has_peer(ares_socket_t fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  return getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0;
}

struct Channel {
  EngineCore* engine = nullptr;
  ResolverSpec spec;
  ChannelPtr channel;
  TokenBucket bucket;
  std::deque<std::unique_ptr<Pending>> queue;
  int in_flight = 0;
  bool retired = false;
  std::unique_ptr<Timer> pace_timer;  // armed while the rate limit holds queries back
  std::unordered_map<ares_socket_t, Socket*> sockets;
  // When the server last closed an established TCP connection: c-ares ends the queries on it
  // with ARES_ECONNREFUSED, as if nothing listened.
  std::optional<SteadyTime> tcp_hangup;

  Channel(EngineCore* e, ResolverSpec s, SteadyTime now)
      : engine(e),
        spec(std::move(s)),
        bucket(spec.rate_limit, spec.burst > 0 ? spec.burst : spec.rate_limit, now) {}
  // ares_destroy closes the channel's sockets through on_sock_state, which must still find
  // them in `sockets` (destroyed before `channel` otherwise) to stop and close their polls.
  ~Channel() { channel.reset(); }
};

/// Everything behind DnsEngine; Impl is this under the header's name.
struct EngineCore {
  EventLoop& loop;
  uv_loop_t* uv_loop;
  const Clock& clock;
  DnsQueryObserver* observer;
  BatchedIo io;  // the channels' socket functions: declared first, it outlives them
  std::map<std::string, std::unique_ptr<Channel>> channels;
  std::vector<std::unique_ptr<Channel>> retired;  // released by the deferred timer
  std::vector<std::pair<Callback, Answer>> completed;
  // The batch flush() is calling back; swapped with `completed` so both keep their capacity.
  std::vector<std::pair<Callback, Answer>> running;
  std::unique_ptr<Timer> ares_timer;  // the one timer behind c-ares's timeouts
  SteadyTime ares_timer_due{};
  std::unique_ptr<Timer> deferred;  // runs completions and releases channels off the stack
  bool flushing = false;
  bool destroying = false;
  size_t queued_total = 0;
  size_t in_flight_total = 0;
  QueryIds ids;

  EngineCore(EventLoop& l, const Clock& c, DnsQueryObserver* o)
      : loop(l), uv_loop(static_cast<uv_loop_t*>(l.native_handle())), clock(c), observer(o) {}

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept;
  static void on_poll(uv_poll_t* handle, int status, int events) noexcept;
  static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf,
                        int alen) noexcept;

  Result<std::unique_ptr<Channel>> make_channel(const ResolverSpec& spec);
  void pump(Channel& ch);
  SteadyTime send(Channel& ch, std::unique_ptr<Pending> p);  // returns the time sent
  void finish(Pending* p, Answer answer);
  void flush();
  void schedule_deferred();
  void arm_ares_timer(Channel& ch);
  void arm_for_sent(Channel& ch, SteadyTime first_sent);
  void on_ares_timer();
  void after_io(Channel& ch);
};

Outcome outcome_for_status(int status) {
  switch (status) {
    case ARES_ETIMEOUT:
      return Outcome::kTimeout;
    case ARES_EBADRESP:
      return Outcome::kMalformed;
    default:
      return Outcome::kNetwork;
  }
}

Result<void> set_server(ares_channel channel, const ResolverSpec& spec) {
  ares_addr_port_node node{};
  node.next = nullptr;
  node.udp_port = spec.port;
  node.tcp_port = spec.port;
  if (inet_pton(AF_INET, spec.address.c_str(), &node.addr.addr4) == 1) {
    node.family = AF_INET;
  } else if (inet_pton(AF_INET6, spec.address.c_str(), &node.addr.addr6) == 1) {
    node.family = AF_INET6;
  } else {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("resolver {}: \"{}\" is not an IP address", spec.id, spec.address));
  }
  int status = ares_set_servers_ports(channel, &node);
  if (status != ARES_SUCCESS) {
    return make_error(ErrorCode::kInternal,
                      fmt::format("resolver {}: {}", spec.id, ares_strerror(status)));
  }
  return {};
}

Result<std::unique_ptr<Channel>> EngineCore::make_channel(const ResolverSpec& spec) {
  auto ch = std::make_unique<Channel>(this, spec, clock.steady_now());
  ares_options options{};
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
             ARES_OPT_SERVERS | ARES_OPT_DOMAINS | ARES_OPT_NDOTS | ARES_OPT_SORTLIST |
             ARES_OPT_LOOKUPS | ARES_OPT_EDNSPSZ;
  // NOCHECKRESP: SERVFAIL and REFUSED come back to us instead of being retried elsewhere;
  // STAYOPEN: one socket for the channel's life instead of a new port per burst.
  options.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_STAYOPEN | ARES_FLAG_EDNS;
  if (spec.transport == Transport::kTcp) options.flags |= ARES_FLAG_USEVC;
  if (spec.transport == Transport::kUdpOnly) options.flags |= ARES_FLAG_IGNTC;
  if (!spec.recursion) options.flags |= ARES_FLAG_NORECURSE;
  options.timeout = static_cast<int>(spec.timeout.count());
  options.tries = spec.tries;
  options.sock_state_cb = &EngineCore::on_sock_state;
  options.sock_state_cb_data = ch.get();
  // Servers, search domains, ndots, sortlist and lookups all given: /etc/resolv.conf is not
  // consulted (on a host without one c-ares would otherwise fall back to 127.0.0.1).
  options.nservers = 0;
  options.servers = nullptr;
  options.ndomains = 0;
  options.domains = nullptr;
  options.ndots = 1;
  options.nsort = 0;
  options.sortlist = nullptr;
  char lookups[] = "b";
  options.lookups = lookups;
  options.ednspsz = kEdnsUdpSize;
  ares_channel raw = nullptr;
  int status = ares_init_options(&raw, &options, mask);
  if (status != ARES_SUCCESS) {
    return make_error(ErrorCode::kInternal,
                      fmt::format("resolver {}: c-ares: {}", spec.id, ares_strerror(status)));
  }
  ch->channel.reset(raw);
  io.attach(raw);  // before the first socket opens
  if (auto ok = set_server(raw, spec); !ok) return tl::unexpected(ok.error());
  return ch;
}

void EngineCore::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept {
  auto* ch = static_cast<Channel*>(data);
  EngineCore* self = ch->engine;
  auto it = ch->sockets.find(fd);
  if (!readable && !writable) {
    if (it == ch->sockets.end()) return;
    Socket* s = it->second;
    ch->sockets.erase(it);
    // Called before c-ares closes the socket. A reset connection has no peer any more, hence
    // `connected`, noted while it was up.
    if (s->stream && (s->connected || has_peer(fd))) ch->tcp_hangup = self->clock.steady_now();
    uv_poll_stop(&s->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&s->poll),
             [](uv_handle_t* h) { delete static_cast<Socket*>(h->data); });
    return;
  }
  Socket* s = nullptr;
  if (it == ch->sockets.end()) {
    // No exception may leave this C callback: out of memory is handled like a socket libuv
    // cannot watch.
    s = new (std::nothrow) Socket;
    if (s == nullptr) {
      spdlog::error("resolver {}: out of memory watching socket {}", ch->spec.id, fd);
      return;
    }
    s->channel = ch;
    s->fd = fd;
    s->stream = is_stream(fd);
    s->poll.data = s;
    if (uv_poll_init_socket(self->uv_loop, &s->poll, fd) != 0) {
      // c-ares will time the query out; nothing else we can do from inside its callback.
      spdlog::error("resolver {}: cannot watch socket {}", ch->spec.id, fd);
      delete s;
      return;
    }
    ch->sockets.emplace(fd, s);
  } else {
    s = it->second;
  }
  if (s->stream && !s->connected) s->connected = has_peer(fd);
  int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
  uv_poll_start(&s->poll, events, &EngineCore::on_poll);
}

void EngineCore::on_poll(uv_poll_t* handle, int status, int events) noexcept {
  auto* s = static_cast<Socket*>(handle->data);
  Channel* ch = s->channel;
  if (s->stream && !s->connected) s->connected = has_peer(s->fd);
  ares_socket_t read_fd = ARES_SOCKET_BAD;
  ares_socket_t write_fd = ARES_SOCKET_BAD;
  if (status < 0) {
    // Let c-ares read the socket and find the error itself (as Node.js does).
    read_fd = write_fd = s->fd;
  } else {
    if (events & UV_READABLE) read_fd = s->fd;
    if (events & UV_WRITABLE) write_fd = s->fd;
  }
  // `s` may be closed inside this call; `ch` lives on (channels are released deferred).
  ares_process_fd(ch->channel.get(), read_fd, write_fd);
  ch->engine->after_io(*ch);
}

void EngineCore::on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf,
                           int alen) noexcept {
  auto* p = static_cast<Pending*>(arg);
  EngineCore* self = p->channel->engine;
  if (self->destroying) {
    delete p;
    return;
  }
  Answer answer;
  if (abuf != nullptr && alen > 0) {
    auto parsed =
        parse_response(std::span<const uint8_t>(abuf, static_cast<size_t>(alen)), p->question);
    if (parsed) {
      answer = std::move(*parsed);
    } else {
      answer.outcome = Outcome::kMalformed;
      answer.detail = parsed.error().message;
    }
  } else {
    answer.outcome = outcome_for_status(status);
    if (status == ARES_ECANCELLED || status == ARES_EDESTRUCTION) {
      answer.detail = "cancelled";
    } else if (status == ARES_ECONNREFUSED && p->channel->tcp_hangup >= p->sent) {
      answer.detail = "the server closed the TCP connection before answering";
    } else if (status == ARES_ECONNREFUSED) {
      answer.detail = "connection refused (nothing listens there)";
    } else {
      answer.detail = ares_strerror(status);
    }
  }
  self->finish(p, std::move(answer));
}

void EngineCore::finish(Pending* raw, Answer answer) {
  std::unique_ptr<Pending> p(raw);
  Channel* ch = p->channel;
  answer.latency =
      std::chrono::duration_cast<std::chrono::microseconds>(clock.steady_now() - p->sent);
  --ch->in_flight;
  --in_flight_total;
  if (observer != nullptr)
    observer->dns_query_done(ch->spec.id, to_string(answer.outcome), answer.latency);
  completed.emplace_back(std::move(p->callback), std::move(answer));
}

SteadyTime EngineCore::send(Channel& ch, std::unique_ptr<Pending> p) {
  ++ch.in_flight;
  ++in_flight_total;
  const SteadyTime sent = clock.steady_now();
  p->sent = sent;
  const Question& q = p->question;
  // ares_send keeps the id in the buffer; ares_query draws one itself. build_query and
  // ares_send cost ~930 instructions per query where ares_query cost ~1,600 (bench/README.md).
  std::array<uint8_t, kMaxQuerySize> buf;
  const std::optional<uint16_t> id = ids.next();
  const size_t length = id ? build_query(q, ch.spec.recursion, *id, buf) : 0;
  if (length != 0) {
    ares_send(ch.channel.get(), buf.data(), static_cast<int>(length), &EngineCore::on_answer,
              p.release());
  } else {
    ares_query(ch.channel.get(), q.name.c_str(), static_cast<int>(q.qclass),
               static_cast<int>(q.type), &EngineCore::on_answer, p.release());
  }
  return sent;
}

void EngineCore::pump(Channel& ch) {
  const int cap = std::max(1, ch.spec.max_in_flight);
  bool sent_any = false;
  SteadyTime first_sent{};
  while (!ch.queue.empty() && ch.in_flight < cap) {
    // Without a rate limit the bucket ignores the time: no clock read per query then.
    const SteadyTime now = ch.bucket.unlimited() ? SteadyTime{} : clock.steady_now();
    if (!ch.bucket.try_take(now)) {
      if (!ch.pace_timer) {
        Channel* target = &ch;
        ch.pace_timer = loop.make_timer([this, target] {
          pump(*target);
          flush();
        });
      }
      if (!ch.pace_timer->active()) ch.pace_timer->start(ch.bucket.wait_time(now));
      break;
    }
    auto p = std::move(ch.queue.front());
    ch.queue.pop_front();
    --queued_total;
    const SteadyTime sent = send(ch, std::move(p));
    if (!sent_any) first_sent = sent;
    sent_any = true;
  }
  if (sent_any) arm_for_sent(ch, first_sent);
}

// A query sent at `t` times out first at t + timeout (c-ares reads its clock just after
// ours), and any query already in flight is due earlier or the timer already covers it: the
// earliest deadline among those just sent re-arms the timer only when it comes first. This
// avoids ares_timeout(), which walks every outstanding query, once per query sent.
void EngineCore::arm_for_sent(Channel& ch, SteadyTime first_sent) {
  const SteadyTime due = first_sent + ch.spec.timeout + Duration(1);
  if (ares_timer->active() && ares_timer_due <= due) return;
  const SteadyTime now = clock.steady_now();
  ares_timer_due = due;
  ares_timer->start(due > now ? std::chrono::ceil<Duration>(due - now) : Duration::zero());
}

void EngineCore::arm_ares_timer(Channel& ch) {
  if (ch.in_flight == 0) return;
  timeval tv{};
  if (ares_timeout(ch.channel.get(), nullptr, &tv) == nullptr) return;
  const SteadyTime now = clock.steady_now();
  const Duration wait(static_cast<Duration::rep>(tv.tv_sec) * 1000 + tv.tv_usec / 1000 + 1);
  const SteadyTime due = now + wait;
  if (!ares_timer->active() || due < ares_timer_due) {
    ares_timer_due = due;
    ares_timer->start(wait);
  }
}

void EngineCore::on_ares_timer() {
  for (auto& [id, ch] : channels) {
    if (ch->in_flight > 0) ares_process_fd(ch->channel.get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
  for (auto& [id, ch] : channels) {
    pump(*ch);
    arm_ares_timer(*ch);
  }
  flush();
}

void EngineCore::after_io(Channel& ch) {
  if (!ch.retired) {
    pump(ch);
    arm_ares_timer(ch);
  }
  flush();
}

void EngineCore::flush() {
  if (flushing) return;  // the outer flush picks up what a callback adds
  flushing = true;
  while (!completed.empty()) {
    // Swapped, not moved: both vectors keep their capacity from one flush to the next.
    running.swap(completed);
    for (auto& [callback, answer] : running) {
      if (!callback) continue;
      // A throwing callback must neither stop the others nor leave `flushing` set (every
      // later flush would return at once and the engine would go silent).
      try {
        callback(answer);
      } catch (const std::exception& e) {
        spdlog::error("DNS answer callback failed: {}", e.what());
      } catch (...) {
        spdlog::error("DNS answer callback failed");
      }
    }
    running.clear();
  }
  flushing = false;
}

void EngineCore::schedule_deferred() {
  if (!deferred->active()) deferred->start(Duration::zero());
}

}  // namespace

struct DnsEngine::Impl : EngineCore {
  using EngineCore::EngineCore;
};

Result<std::unique_ptr<DnsEngine>> DnsEngine::create(EventLoop& loop, const Clock& clock,
                                                     DnsQueryObserver* observer) {
  auto impl = std::make_unique<Impl>(loop, clock, observer);
  EngineCore* raw = impl.get();
  impl->ares_timer = loop.make_timer([raw] { raw->on_ares_timer(); });
  impl->deferred = loop.make_timer([raw] {
    raw->retired.clear();
    raw->flush();
  });
  return std::unique_ptr<DnsEngine>(new DnsEngine(std::move(impl)));
}

DnsEngine::DnsEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DnsEngine::~DnsEngine() {
  impl_->destroying = true;
  impl_->channels.clear();  // ares_destroy ends every query; on_answer drops them
  impl_->retired.clear();
}

Result<void> DnsEngine::add_resolver(const ResolverSpec& spec) {
  if (impl_->channels.count(spec.id) != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("resolver {} is already in the engine", spec.id));
  }
  auto ch = impl_->make_channel(spec);
  if (!ch) return tl::unexpected(ch.error());
  impl_->channels.emplace(spec.id, std::move(*ch));
  return {};
}

void DnsEngine::remove_resolver(const std::string& id) {
  auto it = impl_->channels.find(id);
  if (it == impl_->channels.end()) return;
  std::unique_ptr<Channel> ch = std::move(it->second);
  impl_->channels.erase(it);
  ch->retired = true;
  if (ch->pace_timer) ch->pace_timer->stop();
  while (!ch->queue.empty()) {
    auto p = std::move(ch->queue.front());
    ch->queue.pop_front();
    --impl_->queued_total;
    Answer answer;
    answer.outcome = Outcome::kNetwork;
    answer.detail = "cancelled";
    // Counted like the in-flight ones that end through on_answer and finish().
    if (impl_->observer != nullptr)
      impl_->observer->dns_query_done(ch->spec.id, to_string(answer.outcome), answer.latency);
    impl_->completed.emplace_back(std::move(p->callback), std::move(answer));
  }
  // Ends the in-flight queries through on_answer (ARES_ECANCELLED); the channel itself is
  // released later, when no c-ares call is on the stack.
  ares_cancel(ch->channel.get());
  impl_->retired.push_back(std::move(ch));
  impl_->schedule_deferred();
}

bool DnsEngine::has_resolver(const std::string& id) const { return impl_->channels.count(id) != 0; }

void DnsEngine::query(const std::string& resolver_id, Question question, Callback callback) {
  auto it = impl_->channels.find(resolver_id);
  if (it == impl_->channels.end()) {
    Answer answer;
    answer.outcome = Outcome::kNetwork;
    answer.detail = fmt::format("no resolver {}", resolver_id);
    impl_->completed.emplace_back(std::move(callback), std::move(answer));
    impl_->schedule_deferred();
    return;
  }
  Channel& ch = *it->second;
  auto p = std::make_unique<Pending>();
  p->channel = &ch;
  p->question = std::move(question);
  p->callback = std::move(callback);
  ch.queue.push_back(std::move(p));
  ++impl_->queued_total;
  // Inside a flush (a callback queuing follow-ups) the queue is pumped right away; otherwise
  // the query still leaves now, and any answer that ends synchronously waits for the deferred
  // flush, so callbacks never run inside query().
  impl_->pump(ch);
  if (!impl_->completed.empty() && !impl_->flushing) impl_->schedule_deferred();
}

size_t DnsEngine::queued() const { return impl_->queued_total; }
size_t DnsEngine::in_flight() const { return impl_->in_flight_total; }

}  // namespace ddnswatch::resolvers
