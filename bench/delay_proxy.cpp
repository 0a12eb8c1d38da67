// delay_proxy: a UDP DNS proxy that holds every query for a fixed time before it forwards it,
// so that a server on loopback looks like one across a network (bench/README.md, the delayed
// sweep). Each listening address is one resolver for the client and has its own upstream
// socket, to its own server address when several are given (a server's receive buffer then
// holds only what one resolver has in flight, as without the proxy); answers go back at once
// to the client that asked, found by the message id and the question (two queries in flight
// may share an id; c-ares tells them apart by the question too).
//
//   delay_proxy --listen ADDR:PORT[,ADDR:PORT...] --upstream ADDR:PORT[,ADDR:PORT...]
//               [--delay-ms N]
//
// It prints `delay_proxy: ready` once every socket is bound and runs until SIGTERM or SIGINT,
// when it prints what it passed on (queries, answers, answers for no known query).
// IPv4 only; single-threaded on epoll. Every query waits the same time, so one FIFO queue
// holds them in release order.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "delay_proxy: %s\n", message.c_str());
  std::exit(2);
}

sockaddr_in parse_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) die("want ADDR:PORT, got " + text);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  if (inet_pton(AF_INET, text.substr(0, colon).c_str(), &a.sin_addr) != 1) {
    die("not an IPv4 address: " + text);
  }
  const long port = std::strtol(text.c_str() + colon + 1, nullptr, 10);
  if (port <= 0 || port > 65535) die("bad port in " + text);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

int udp_socket() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  const int size = 4 << 20;  // room for bursts: a whole sweep may arrive at once
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  return fd;
}

/// One resolver as the client sees it: the socket it asks, the socket that forwards, and the
/// clients waiting for answers, by message id.
struct Path {
  int front = -1;
  int back = -1;
  std::unordered_map<std::string, sockaddr_in> clients;  // by query_key()
};

struct Held {
  Clock::time_point release;
  size_t path = 0;
  std::vector<unsigned char> message;
};

volatile sig_atomic_t stopping = 0;
void on_stop(int) { stopping = 1; }

/// The id and the question (name, type, class) of a message, as bytes: the same in a query
/// and in its answer. Empty when the message is too short to hold them.
std::string query_key(const unsigned char* m, size_t size) {
  size_t at = 12;
  while (at < size && m[at] != 0) {
    if ((m[at] & 0xc0) != 0) return {};  // no compression in a question's name
    at += 1 + m[at];
  }
  at += 1 + 4;
  if (at > size) return {};
  std::string key(reinterpret_cast<const char*>(m), 2);
  key.append(reinterpret_cast<const char*>(m) + 12, at - 12);
  return key;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? comma : comma - start);
    if (!part.empty()) parts.push_back(std::move(part));
    if (comma == std::string::npos) return parts;
    start = comma + 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> listen;
  std::vector<std::string> upstreams;
  long delay_ms = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--listen") {
      listen = split_list(value);
    } else if (flag == "--upstream") {
      upstreams = split_list(value);
    } else if (flag == "--delay-ms") {
      delay_ms = std::strtol(value.c_str(), nullptr, 10);
    } else {
      die("unknown option " + flag);
    }
  }
  if (listen.empty() || upstreams.empty() || delay_ms < 0 || argc % 2 == 0) {
    die("usage: delay_proxy --listen ADDR:PORT[,...] --upstream ADDR:PORT[,...] [--delay-ms N]");
  }
  if (upstreams.size() != 1 && upstreams.size() != listen.size()) {
    die("--upstream wants one address, or as many as --listen");
  }
  const auto delay = std::chrono::milliseconds(delay_ms);

  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) die("epoll_create1 failed");
  std::vector<Path> paths(listen.size());
  for (size_t i = 0; i < listen.size(); ++i) {
    const sockaddr_in local = parse_address(listen[i]);
    paths[i].front = udp_socket();
    if (bind(paths[i].front, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
      die("cannot bind " + listen[i] + ": " + std::strerror(errno));
    }
    const std::string& upstream_text = upstreams[upstreams.size() == 1 ? 0 : i];
    const sockaddr_in upstream = parse_address(upstream_text);
    paths[i].back = udp_socket();
    if (connect(paths[i].back, reinterpret_cast<const sockaddr*>(&upstream), sizeof upstream) !=
        0) {
      die("cannot connect to " + upstream_text + ": " + std::strerror(errno));
    }
    // The event's data: path index * 2, + 1 for the upstream side.
    for (int side = 0; side < 2; ++side) {
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u64 = i * 2 + static_cast<size_t>(side);
      if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, side == 0 ? paths[i].front : paths[i].back, &event) !=
          0) {
        die("epoll_ctl failed");
      }
    }
  }
  std::printf("delay_proxy: ready, %zu addresses -> %zu, %ld ms\n", paths.size(), upstreams.size(),
              delay_ms);
  std::fflush(stdout);

  struct sigaction action {};
  action.sa_handler = on_stop;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  size_t queries = 0;
  size_t answers = 0;
  size_t unmatched = 0;
  std::deque<Held> held;
  unsigned char buffer[65536];
  epoll_event events[64];
  while (stopping == 0) {
    int timeout = -1;
    if (!held.empty()) {
      const auto wait = held.front().release - Clock::now();
      // Rounded up: a query never leaves before its time.
      timeout = wait.count() <= 0
                    ? 0
                    : static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
    }
    const int n = epoll_wait(epoll_fd, events, 64, timeout);
    if (n < 0 && errno != EINTR) die(std::string("epoll_wait: ") + std::strerror(errno));
    const auto now = Clock::now();
    for (int e = 0; e < n; ++e) {
      const size_t index = static_cast<size_t>(events[e].data.u64 / 2);
      Path& path = paths[index];
      if (events[e].data.u64 % 2 == 0) {  // queries from clients: held for the delay
        for (;;) {
          sockaddr_in from{};
          socklen_t from_len = sizeof from;
          const ssize_t got = recvfrom(path.front, buffer, sizeof buffer, 0,
                                       reinterpret_cast<sockaddr*>(&from), &from_len);
          if (got < 0) break;
          std::string key = query_key(buffer, static_cast<size_t>(got));
          if (key.empty()) continue;  // not a DNS query
          path.clients[std::move(key)] = from;
          ++queries;
          held.push_back({now + delay, index, {buffer, buffer + got}});
        }
      } else {  // answers from the server: straight back to the client that asked
        for (;;) {
          const ssize_t got = recv(path.back, buffer, sizeof buffer, 0);
          if (got < 0) break;
          const auto client = path.clients.find(query_key(buffer, static_cast<size_t>(got)));
          if (client == path.clients.end()) {
            ++unmatched;
            continue;
          }
          ++answers;
          sendto(path.front, buffer, static_cast<size_t>(got), 0,
                 reinterpret_cast<const sockaddr*>(&client->second), sizeof client->second);
          path.clients.erase(client);
        }
      }
    }
    while (!held.empty() && held.front().release <= Clock::now()) {
      const Held& h = held.front();
      send(paths[h.path].back, h.message.data(), h.message.size(), 0);
      held.pop_front();
    }
  }
  std::printf("delay_proxy: %zu queries, %zu answers, %zu answers for no known query, %zu held\n",
              queries, answers, unmatched, held.size());
  return 0;
}
