// engine_bench: load and memory benchmarks of the DNS engine (resolvers/dns_engine.h) on the
// daemon's event loop, against a real server. See bench/README.md; bench/run.sh runs both
// modes against a local Knot DNS and compares the query rate with dnsperf's.
//
//   engine_bench qps --server ADDR:PORT --names FILE [--seconds N] [--in-flight N]
//   engine_bench sweep --servers ADDR:PORT,... --names FILE [--count N | --pairs N]
//                      [--in-flight N] [--rate-limit N]
//   engine_bench cares-qps ...   (as qps, a bare c-ares loop without the engine: the floor)
#include <ares.h>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "resolvers/cares_library.h"
#include "resolvers/dns_engine.h"
#include "resolvers/dns_types.h"

namespace {

using ddnswatch::Duration;
using ddnswatch::EventLoop;
using ddnswatch::SteadyTime;
using ddnswatch::SystemClock;
using ddnswatch::resolvers::Answer;
using ddnswatch::resolvers::DnsEngine;
using ddnswatch::resolvers::Outcome;
using ddnswatch::resolvers::QType;
using ddnswatch::resolvers::Question;
using ddnswatch::resolvers::ResolverSpec;
using ddnswatch::resolvers::Transport;

constexpr const char* kUsage =
    "usage:\n"
    "  engine_bench qps --server ADDR:PORT --names FILE [--seconds N] [--in-flight N]\n"
    "      queries the names (A) through one resolver for N seconds (default 10), keeping\n"
    "      --in-flight queries outstanding (default 100; also the resolver's cap)\n"
    "  engine_bench sweep --servers ADDR:PORT,... --names FILE [--count N | --pairs N]\n"
    "                     [--in-flight N] [--rate-limit N]\n"
    "      one sweep: the first N names (default 1000) x every server, each server its own\n"
    "      resolver (channel), all queued at once as the monitor does; --pairs N asks\n"
    "      N (name, resolver) pairs in all (N / servers names); --in-flight is the cap per\n"
    "      resolver (default 50, the engine's default)\n"
    "  engine_bench cares-qps --server ADDR:PORT --names FILE [--seconds N] [--in-flight N]\n"
    "      as qps, with a bare c-ares channel on epoll (sock_state_cb, ares_process_fd, A\n"
    "      answers parsed) instead of the engine: what c-ares and the kernel cost alone\n"
    "  The names file has one name per line; anything after the first word (a dnsperf\n"
    "  query file's type) is ignored.\n";

/// A bad command line or a setup that failed: main prints it and exits with 2.
struct Fatal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void die(const std::string& message) { throw Fatal(message); }

struct Endpoint {
  std::string address;
  uint16_t port = 53;
};

Endpoint parse_endpoint(const std::string& text) {
  Endpoint e;
  std::string port;
  if (!text.empty() && text.front() == '[') {  // [V6]:PORT
    const auto close = text.find(']');
    if (close == std::string::npos) die(fmt::format("bad server {}", text));
    e.address = text.substr(1, close - 1);
    if (close + 1 < text.size() && text[close + 1] == ':') port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      e.address = text;
    } else {
      e.address = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
  }
  if (!port.empty()) {
    char* end = nullptr;
    const long value = std::strtol(port.c_str(), &end, 10);
    if (*end != '\0' || value <= 0 || value > 65535) die(fmt::format("bad port in {}", text));
    e.port = static_cast<uint16_t>(value);
  }
  if (e.address.empty()) die(fmt::format("bad server {}", text));
  return e;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const auto at = text.find(separator, start);
    std::string part = text.substr(start, at == std::string::npos ? std::string::npos : at - start);
    if (!part.empty()) parts.push_back(std::move(part));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return parts;
}

std::vector<std::string> read_names(const std::string& path) {
  std::ifstream in(path);
  if (!in) die(fmt::format("cannot read {}", path));
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    const auto begin = line.find_first_not_of(" \t");
    if (begin == std::string::npos || line[begin] == '#' || line[begin] == ';') continue;
    const auto end = line.find_first_of(" \t\r", begin);
    std::string name = line.substr(begin, end == std::string::npos ? end : end - begin);
    if (!name.empty() && name.back() == '.') name.pop_back();
    if (!name.empty()) names.push_back(std::move(name));
  }
  if (names.empty()) die(fmt::format("no names in {}", path));
  return names;
}

long parse_number(const std::string& flag, const std::string& text, long min, long max) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < min || value > max) {
    die(fmt::format("{} wants a number from {} to {}", flag, min, max));
  }
  return value;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

struct CpuTime {
  double user = 0;
  double system = 0;
  double total() const { return user + system; }
};

CpuTime cpu_time() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return {seconds(usage.ru_utime), seconds(usage.ru_stime)};
}

CpuTime operator-(const CpuTime& a, const CpuTime& b) {
  return {a.user - b.user, a.system - b.system};
}

/// "CPU 2.10 s (user 0.60, system 1.50), 5.25 us of CPU per query"
void print_cpu(const char* who, const CpuTime& cpu, size_t queries) {
  const double per = queries > 0 ? 1e6 / static_cast<double>(queries) : 0.0;
  std::printf(
      "%s: CPU %.2f s (user %.2f, system %.2f), %.2f us of CPU per query "
      "(user %.2f, system %.2f)\n",
      who, cpu.total(), cpu.user, cpu.system, cpu.total() * per, cpu.user * per, cpu.system * per);
}

double seconds_between(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

struct Tally {
  std::array<size_t, std::size(ddnswatch::resolvers::kAllOutcomes)> by_outcome{};
  size_t total = 0;

  void add(const Answer& answer) {
    ++by_outcome[static_cast<size_t>(answer.outcome)];
    ++total;
  }
  size_t count(Outcome outcome) const { return by_outcome[static_cast<size_t>(outcome)]; }
  size_t answered() const {
    size_t n = 0;
    for (Outcome o : ddnswatch::resolvers::kAllOutcomes) {
      if (ddnswatch::resolvers::answered(o)) n += count(o);
    }
    return n;
  }
  std::string outcomes() const {
    std::string text;
    for (Outcome o : ddnswatch::resolvers::kAllOutcomes) {
      if (count(o) == 0) continue;
      if (!text.empty()) text += ", ";
      text += fmt::format("{} {}", ddnswatch::resolvers::to_string(o), count(o));
    }
    return text;
  }
};

/// The loop, the clock and the engine of one benchmark run.
struct Bench {
  SystemClock clock;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<DnsEngine> engine;

  Bench() {
    auto l = EventLoop::create();
    if (!l) die(l.error().message);
    loop = std::move(*l);
    auto e = DnsEngine::create(*loop, clock);
    if (!e) die(e.error().message);
    engine = std::move(*e);
  }
  ~Bench() { engine.reset(); }  // the engine goes before its loop
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;

  void add(const std::string& id, const Endpoint& server, int max_in_flight,
           double rate_limit = 0) {
    ResolverSpec spec;
    spec.id = id;
    spec.address = server.address;
    spec.port = server.port;
    spec.transport = Transport::kUdp;
    spec.recursion = false;  // an authoritative server
    spec.timeout = std::chrono::seconds(1);
    spec.tries = 1;
    spec.max_in_flight = max_in_flight;
    spec.rate_limit = rate_limit;
    if (auto ok = engine->add_resolver(spec); !ok) die(ok.error().message);
  }
};

struct Args {
  std::string mode;
  std::vector<std::string> servers;
  std::string names;
  long seconds = 10;
  std::optional<long> in_flight;
  long count = 1000;
  std::optional<long> pairs;
  long rate_limit = 0;
  bool help = false;
};

Args parse_args(int argc, char** argv) {
  if (argc < 2) die(fmt::format("no mode\n{}", kUsage));
  Args args;
  args.mode = argv[1];
  if (args.mode == "-h" || args.mode == "--help") {
    args.help = true;
    return args;
  }
  if (args.mode != "qps" && args.mode != "sweep" && args.mode != "cares-qps")
    die(fmt::format("unknown mode {}\n{}", args.mode, kUsage));
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      args.help = true;
      return args;
    }
    if (i + 1 >= argc) die(fmt::format("{} wants a value", flag));
    const std::string value = argv[++i];
    if (flag == "--server" || flag == "--servers") {
      args.servers = split(value, ',');
    } else if (flag == "--names") {
      args.names = value;
    } else if (flag == "--seconds") {
      args.seconds = parse_number(flag, value, 1, 3600);
    } else if (flag == "--in-flight") {
      args.in_flight = parse_number(flag, value, 1, 100000);
    } else if (flag == "--count") {
      args.count = parse_number(flag, value, 1, 100000000);
    } else if (flag == "--pairs") {
      args.pairs = parse_number(flag, value, 1, 100000000);
    } else if (flag == "--rate-limit") {
      args.rate_limit = parse_number(flag, value, 0, 100000000);
    } else {
      die(fmt::format("unknown option {}\n{}", flag, kUsage));
    }
  }
  if (args.servers.empty()) die("no --server");
  if (args.names.empty()) die("no --names");
  if (args.mode != "sweep" && args.servers.size() != 1)
    die(fmt::format("{} takes one --server", args.mode));
  return args;
}

/// As many queries as the engine allows for `seconds`: `in_flight` outstanding, a new one
/// issued from each callback until the time is up; then the last ones drain.
int run_qps(const Args& args) {
  const std::vector<std::string> names = read_names(args.names);
  const Endpoint server = parse_endpoint(args.servers.front());
  const int in_flight = static_cast<int>(args.in_flight.value_or(100));
  Bench bench;
  bench.add("bench", server, in_flight);

  struct State {
    Bench* bench = nullptr;
    const std::vector<std::string>* names = nullptr;
    size_t next = 0;
    SteadyTime started{};
    SteadyTime deadline{};
    SteadyTime last_answer{};
    Tally tally;
    std::function<void(const Answer&)> on_answer;

    void issue() {
      const std::string& name = (*names)[next];
      if (++next == names->size()) next = 0;
      bench->engine->query("bench", Question{name, QType::kA}, on_answer);
    }
  } state;
  state.bench = &bench;
  state.names = &names;
  state.on_answer = [&state](const Answer& answer) {
    state.tally.add(answer);
    const SteadyTime now = state.bench->clock.steady_now();
    state.last_answer = now;
    if (now < state.deadline) {
      state.issue();
    } else if (state.bench->engine->in_flight() + state.bench->engine->queued() == 0) {
      state.bench->loop->stop();
    }
  };

  // A guard in case answers stop coming: the deadline, plus a full timeout, plus a margin.
  auto guard = bench.loop->make_timer([&bench] {
    fmt::print(stderr, "engine_bench: queries still outstanding after the deadline\n");
    bench.loop->stop();
  });
  guard->start(Duration(args.seconds * 1000 + 3000));

  const CpuTime cpu_before = cpu_time();
  bench.loop->post([&state, &bench, &args, in_flight] {
    state.started = bench.clock.steady_now();
    state.deadline = state.started + std::chrono::seconds(args.seconds);
    for (int i = 0; i < in_flight; ++i) state.issue();
  });
  bench.loop->run();
  const CpuTime cpu = cpu_time() - cpu_before;

  const double elapsed = seconds_between(state.started, state.last_answer);
  const size_t total = state.tally.total;
  const double rate = elapsed > 0 ? static_cast<double>(total) / elapsed : 0.0;
  std::printf("engine: %zu queries, %.0f queries/s, %zu timeouts\n", total, rate,
              state.tally.count(Outcome::kTimeout));
  std::printf("engine: %.2f s, %zu in flight, outcomes: %s\n", elapsed,
              static_cast<size_t>(in_flight), state.tally.outcomes().c_str());
  print_cpu("engine", cpu, total);
  std::printf("engine peak RSS: %.1f MB\n", peak_rss_mb());
  return state.tally.answered() > 0 ? 0 : 1;
}

/// One sweep: every (name, resolver) pair queued at once, each server its own resolver, the
/// answers kept until the end as a sweep result keeps them.
int run_sweep(const Args& args) {
  const std::vector<std::string> all_names = read_names(args.names);
  std::vector<Endpoint> servers;
  for (const std::string& s : args.servers) servers.push_back(parse_endpoint(s));
  size_t count = static_cast<size_t>(args.count);
  if (args.pairs) count = (static_cast<size_t>(*args.pairs) + servers.size() - 1) / servers.size();
  if (count > all_names.size()) {
    die(fmt::format("--count/--pairs wants {} names; the file has {}", count, all_names.size()));
  }
  const int in_flight = static_cast<int>(args.in_flight.value_or(50));
  const double rss_before = peak_rss_mb();

  Bench bench;
  std::vector<std::string> ids;
  for (size_t i = 0; i < servers.size(); ++i) {
    ids.push_back(fmt::format("r{}", i));
    bench.add(ids.back(), servers[i], in_flight, static_cast<double>(args.rate_limit));
  }

  const size_t pairs = count * servers.size();
  std::vector<Answer> answers(pairs);
  size_t remaining = pairs;
  Tally tally;
  SteadyTime started{};
  SteadyTime ended{};
  bench.loop->post([&] {
    started = bench.clock.steady_now();
    // Name-major, as the monitor asks each watched name of every resolver at once.
    for (size_t n = 0; n < count; ++n) {
      for (size_t r = 0; r < servers.size(); ++r) {
        const size_t slot = n * servers.size() + r;
        bench.engine->query(ids[r], Question{all_names[n], QType::kA},
                            [&, slot](const Answer& answer) {
                              answers[slot] = answer;
                              tally.add(answer);
                              if (--remaining == 0) {
                                ended = bench.clock.steady_now();
                                bench.loop->stop();
                              }
                            });
      }
    }
  });
  auto guard = bench.loop->make_timer([&bench] {
    fmt::print(stderr, "engine_bench: the sweep did not end in time\n");
    bench.loop->stop();
  });
  guard->start(std::chrono::seconds(120));
  bench.loop->run();
  if (remaining != 0) ended = bench.clock.steady_now();

  const double elapsed = seconds_between(started, ended);
  std::printf(
      "sweep %zu names x %zu resolvers: %.3f s, %zu answers, %zu timeouts, %.0f queries/s\n", count,
      servers.size(), elapsed, tally.answered(), tally.count(Outcome::kTimeout),
      elapsed > 0 ? static_cast<double>(pairs) / elapsed : 0.0);
  std::printf(
      "sweep limits per resolver: %d in flight, %s\n", in_flight,
      args.rate_limit > 0 ? fmt::format("{} queries/s", args.rate_limit).c_str() : "no rate limit");
  std::printf("sweep outcomes: %s%s\n", tally.outcomes().c_str(),
              remaining != 0 ? fmt::format(", unfinished {}", remaining).c_str() : "");
  std::printf("sweep peak RSS: %.1f MB (%.1f MB before the engine)\n", peak_rss_mb(), rss_before);
  return remaining == 0 && tally.answered() == pairs ? 0 : 1;
}

/// The reference for run_qps: one c-ares channel with the engine's options, its sockets on a
/// plain epoll set through sock_state_cb, ares_process_fd on events, ares_query re-issued from
/// each callback, A answers parsed with ares_parse_a_reply. No engine, no libuv.
struct BareCares {
  ares_channel channel = nullptr;
  int epoll_fd = -1;
  const std::vector<std::string>* names = nullptr;
  size_t next = 0;
  SteadyTime deadline{};
  SteadyTime last_answer{};
  size_t in_flight = 0;
  size_t answers = 0;
  size_t timeouts = 0;
  size_t failures = 0;

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<BareCares*>(data);
    epoll_event event{};
    event.data.fd = fd;
    event.events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
    if (!readable && !writable) {
      epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    } else if (epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, fd, &event) != 0) {
      epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, fd, &event);
    }
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    auto* self = static_cast<BareCares*>(arg);
    --self->in_flight;
    if (status == ARES_SUCCESS) {
      ares_addrttl addresses[8];
      int count = 8;
      if (ares_parse_a_reply(abuf, alen, nullptr, addresses, &count) == ARES_SUCCESS) {
        ++self->answers;
      } else {
        ++self->failures;
      }
    } else if (status == ARES_ETIMEOUT) {
      ++self->timeouts;
    } else if (status != ARES_EDESTRUCTION) {
      ++self->failures;
    }
    const SteadyTime now = std::chrono::steady_clock::now();
    self->last_answer = now;
    if (now < self->deadline) self->issue();
  }

  void issue() {
    const std::string& name = (*names)[next];
    if (++next == names->size()) next = 0;
    ++in_flight;
    ares_query(channel, name.c_str(), 1 /* IN */, 1 /* A */, &BareCares::on_answer, this);
  }
};

int run_cares_qps(const Args& args) {
  const std::vector<std::string> names = read_names(args.names);
  const Endpoint server = parse_endpoint(args.servers.front());
  const int in_flight = static_cast<int>(args.in_flight.value_or(100));
  BareCares bare;
  bare.names = &names;
  bare.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (bare.epoll_fd < 0) die("epoll_create1 failed");

  ares_options options{};
  options.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_STAYOPEN | ARES_FLAG_EDNS |
                  ARES_FLAG_NORECURSE;
  options.timeout = 1000;
  options.tries = 1;
  options.sock_state_cb = &BareCares::on_sock_state;
  options.sock_state_cb_data = &bare;
  options.ndomains = 0;
  options.domains = nullptr;
  options.ndots = 1;
  char lookups[] = "b";
  options.lookups = lookups;
  options.ednspsz = 1232;
  const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
                   ARES_OPT_DOMAINS | ARES_OPT_NDOTS | ARES_OPT_LOOKUPS | ARES_OPT_EDNSPSZ;
  if (ares_init_options(&bare.channel, &options, mask) != ARES_SUCCESS) die("ares_init_options");
  ares_addr_port_node node{};
  node.family = AF_INET;
  node.udp_port = server.port;
  node.tcp_port = server.port;
  if (inet_pton(AF_INET, server.address.c_str(), &node.addr.addr4) != 1) {
    die("cares-qps takes an IPv4 server");
  }
  if (ares_set_servers_ports(bare.channel, &node) != ARES_SUCCESS) die("ares_set_servers_ports");

  const CpuTime cpu_before = cpu_time();
  const SteadyTime started = std::chrono::steady_clock::now();
  bare.deadline = started + std::chrono::seconds(args.seconds);
  const SteadyTime hard_stop = bare.deadline + std::chrono::seconds(3);
  for (int i = 0; i < in_flight; ++i) bare.issue();
  epoll_event events[16];
  while (bare.in_flight > 0 && std::chrono::steady_clock::now() < hard_stop) {
    timeval tv{};
    const timeval* wait = ares_timeout(bare.channel, nullptr, &tv);
    const int timeout_ms =
        wait == nullptr ? 100 : static_cast<int>(wait->tv_sec * 1000 + wait->tv_usec / 1000 + 1);
    const int n = epoll_wait(bare.epoll_fd, events, 16, timeout_ms);
    if (n <= 0) {
      ares_process_fd(bare.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      continue;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      ares_process_fd(bare.channel,
                      (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? fd : ARES_SOCKET_BAD,
                      (events[i].events & EPOLLOUT) ? fd : ARES_SOCKET_BAD);
    }
  }
  const CpuTime cpu = cpu_time() - cpu_before;
  const size_t total = bare.answers + bare.timeouts + bare.failures;
  const double elapsed = seconds_between(started, bare.last_answer);
  std::printf("cares: %zu queries, %.0f queries/s, %zu timeouts, %zu failures\n", total,
              elapsed > 0 ? static_cast<double>(total) / elapsed : 0.0, bare.timeouts,
              bare.failures);
  print_cpu("cares", cpu, total);
  std::printf("cares peak RSS: %.1f MB\n", peak_rss_mb());
  ares_destroy(bare.channel);
  close(bare.epoll_fd);
  return bare.answers > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse_args(argc, argv);
    if (args.help) {
      fmt::print("{}", kUsage);
      return 0;
    }
    auto cares = ddnswatch::resolvers::CaresLibrary::init();
    if (!cares) die(cares.error().message);
    if (args.mode == "cares-qps") return run_cares_qps(args);
    return args.mode == "qps" ? run_qps(args) : run_sweep(args);
  } catch (const Fatal& e) {
    fmt::print(stderr, "engine_bench: {}\n", e.what());
    return 2;
  }
}
