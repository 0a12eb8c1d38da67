// resolvers/batched_io.h on Linux: a real c-ares channel with the batched socket functions
// asks a UDP socket of the test's own on 127.0.0.1, which answers every query at once. Each
// query must get its own answer (the slots of a batch handed over in order, with their peer
// address), the answers must come in batches of up to 32 per recvmmsg, and answers from
// another port must still be refused (c-ares connects its UDP socket, so the kernel drops
// them; c-ares would also compare the peer address it is handed).
#include "resolvers/batched_io.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ddnswatch::resolvers {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr int kQueries = 100;

/// A UDP socket bound to 127.0.0.1 on a port the system picks.
struct UdpSocket {
  int fd = -1;
  sockaddr_in address{};

  UdpSocket() {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot bind a UDP socket on 127.0.0.1";
    }
  }
  ~UdpSocket() {
    if (fd >= 0) close(fd);
  }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  uint16_t port() const { return ntohs(address.sin_port); }
};

bool wait_readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

std::string name_of(int i) { return "n" + std::to_string(i) + ".batch.test"; }

/// 10.0.i/256.i%256, the address the server gives query i's name.
std::array<uint8_t, 4> address_of(int i) {
  return {10, 0, static_cast<uint8_t>(i / 256), static_cast<uint8_t>(i % 256)};
}

/// The id of the query `q`.
int id_of(const Bytes& q) { return q[0] << 8 | q[1]; }

/// The answer to `query`: its header and question, QR set, one A record (owner: a pointer to
/// the question's name) with `address`.
Bytes answer_to(const uint8_t* query, size_t length, std::array<uint8_t, 4> address) {
  Bytes out(query, query + length);
  out[2] |= 0x80;  // QR
  out[7] = 1;      // ANCOUNT
  const Bytes record = {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
  out.insert(out.end(), record.begin(), record.end());
  out.insert(out.end(), address.begin(), address.end());
  return out;
}

struct Reply {
  int calls = 0;
  int status = -1;
  std::string address;
};

struct Fixture {
  ares_channel channel = nullptr;
  int client_fd = -1;
  BatchedIo io;
  std::array<Reply, kQueries> results{};

  explicit Fixture(uint16_t server_port) {
    ares_options options{};
    options.timeout = 5000;
    options.tries = 1;
    options.sock_state_cb = [](void* data, ares_socket_t fd, int readable, int) {
      if (readable) static_cast<Fixture*>(data)->client_fd = fd;
    };
    options.sock_state_cb_data = this;
    char lookups[] = "b";
    options.lookups = lookups;
    const int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
                     ARES_OPT_LOOKUPS | ARES_OPT_FLAGS;
    options.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_STAYOPEN;
    EXPECT_EQ(ares_init_options(&channel, &options, mask), ARES_SUCCESS);
    io.attach(channel);
    ares_addr_port_node server{};
    server.family = AF_INET;
    server.addr.addr4.s_addr = htonl(INADDR_LOOPBACK);
    server.udp_port = server.tcp_port = server_port;
    EXPECT_EQ(ares_set_servers_ports(channel, &server), ARES_SUCCESS);
  }
  ~Fixture() { ares_destroy(channel); }

  void send_all() {
    for (int i = 0; i < kQueries; ++i) {
      unsigned char* query = nullptr;
      int length = 0;
      ASSERT_EQ(ares_create_query(name_of(i).c_str(), ns_c_in, ns_t_a,
                                  static_cast<unsigned short>(i), 1, &query, &length, 0),
                ARES_SUCCESS);
      ares_send(
          channel, query, length,
          [](void* arg, int status, int, unsigned char* abuf, int alen) {
            auto* r = static_cast<Reply*>(arg);
            ++r->calls;
            r->status = status;
            if (status == ARES_SUCCESS && alen >= 4) {
              std::array<char, INET_ADDRSTRLEN> text{};
              inet_ntop(AF_INET, abuf + alen - 4, text.data(), text.size());
              r->address = text.data();
            }
          },
          &results[static_cast<size_t>(i)]);
      ares_free_string(query);
    }
  }

  /// Lets c-ares read the client socket until every query ended or the deadline passed.
  int run(std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    auto ended = [this] {
      int n = 0;
      for (const Reply& r : results) n += r.calls > 0 ? 1 : 0;
      return n;
    };
    while (ended() < kQueries && std::chrono::steady_clock::now() < until) {
      if (wait_readable(client_fd, std::chrono::milliseconds(100))) {
        ares_process_fd(channel, client_fd, ARES_SOCKET_BAD);
      }
    }
    return ended();
  }
};

/// Reads `count` queries from `server`; returns each with the address it came from.
std::vector<std::pair<Bytes, sockaddr_in>> read_queries(const UdpSocket& server, int count) {
  std::vector<std::pair<Bytes, sockaddr_in>> out;
  while (static_cast<int>(out.size()) < count &&
         wait_readable(server.fd, std::chrono::milliseconds(5000))) {
    std::array<uint8_t, 512> buffer{};
    sockaddr_in from{};
    socklen_t length = sizeof from;
    const ssize_t n = recvfrom(server.fd, buffer.data(), buffer.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &length);
    if (n > 0) out.emplace_back(Bytes(buffer.begin(), buffer.begin() + n), from);
  }
  return out;
}

void reply(const UdpSocket& from, const Bytes& message, const sockaddr_in& to) {
  ASSERT_EQ(sendto(from.fd, message.data(), message.size(), 0,
                   reinterpret_cast<const sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(message.size()));
}

TEST(BatchedIo, EveryQueryGetsItsOwnAnswerInBatches) {
  UdpSocket server;
  Fixture f(server.port());
  f.send_all();
  const auto queries = read_queries(server, kQueries);
  ASSERT_EQ(static_cast<int>(queries.size()), kQueries);
  // Answered in reverse order, all before the client reads: the socket holds 100 answers.
  for (auto it = queries.rbegin(); it != queries.rend(); ++it) {
    const Bytes& q = it->first;
    reply(server, answer_to(q.data(), q.size(), address_of(id_of(q))), it->second);
  }
  ASSERT_EQ(f.run(std::chrono::seconds(5)), kQueries);
  for (int i = 0; i < kQueries; ++i) {
    const Reply& r = f.results[static_cast<size_t>(i)];
    EXPECT_EQ(r.calls, 1) << name_of(i);
    EXPECT_EQ(r.status, ARES_SUCCESS) << name_of(i);
    EXPECT_EQ(r.address, "10.0.0." + std::to_string(i)) << name_of(i);
  }
  const BatchedIo::Counts counts = f.io.counts();
  EXPECT_EQ(counts.answers, static_cast<unsigned long long>(kQueries));
  EXPECT_EQ(counts.batches, 4u) << "100 answers waiting: batches of 32, 32, 32 and 4";
}

TEST(BatchedIo, AnswerFromAnotherPortIsRefused) {
  UdpSocket server;
  UdpSocket spoofer;
  Fixture f(server.port());
  f.send_all();
  const auto queries = read_queries(server, kQueries);
  ASSERT_EQ(static_cast<int>(queries.size()), kQueries);
  // Forged answers to the first 20 queries from another port are sent first.
  constexpr int kForged = 20;
  for (int i = 0; i < kForged; ++i) {
    const auto& [q, from] = queries[static_cast<size_t>(i)];
    reply(spoofer, answer_to(q.data(), q.size(), {192, 0, 2, 66}), from);
  }
  for (const auto& [q, from] : queries) {
    reply(server, answer_to(q.data(), q.size(), address_of(id_of(q))), from);
  }
  ASSERT_EQ(f.run(std::chrono::seconds(5)), kQueries);
  for (int i = 0; i < kQueries; ++i) {
    EXPECT_EQ(f.results[static_cast<size_t>(i)].address, "10.0.0." + std::to_string(i))
        << name_of(i) << " took the answer from another port";
  }
  EXPECT_EQ(f.io.counts().answers, static_cast<unsigned long long>(kQueries))
      << "only the server's answers reach the connected socket";
}

}  // namespace
}  // namespace ddnswatch::resolvers
