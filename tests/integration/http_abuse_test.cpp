// The endpoint under abuse, with the real daemon watching a name of the DNS lab every second:
// for 10 s, 50 clients scrape /metrics as fast as they can while slow clients dribble a
// request one byte a second (or send nothing) and malformed requests arrive over raw sockets.
// Every scrape must succeed, every bad request must get a 4xx or a closed connection, slow
// clients must be cut off, the daemon must live on and the monitor must keep cycling.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/http_get.h"
#include "support/lab_fixture.h"
#include "support/metrics_text.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr int kScrapers = 50;
constexpr int kDribblers = 3;  // send a partial request one byte a second
constexpr int kSilent = 2;     // connect and send nothing
constexpr auto kAbuseTime = seconds(10);

// One TCP connection to 127.0.0.1:port; closed on destruction.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }

  // False once the peer closed or reset the connection.
  bool send_all(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads until the peer closes or `timeout` passes. nullopt: still open at the deadline.
  std::optional<std::string> read_until_closed(milliseconds timeout) {
    std::string data;
    const auto deadline = Clock::now() + timeout;
    char buffer[4096];
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) continue;
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return data;  // closed (0) or reset (<0)
      data.append(buffer, static_cast<size_t>(n));
    }
    return std::nullopt;
  }

  // Waits up to `timeout` for the peer to say something or close; true if it did.
  bool peer_acted(milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }

 private:
  int fd_ = -1;
};

struct Malformed {
  std::string label;
  std::string bytes;
};

std::vector<Malformed> malformed_requests() {
  // Binary, with NULs: what a TLS client or a port scanner sends to a plain HTTP port.
  static constexpr char kGarbage[] = "\x16\x03\x01\x00\xff\x00garbage\xfe\xfd\r\n\r\n";
  return {
      {"garbage bytes", std::string(kGarbage, sizeof kGarbage - 1)},
      {"request line without a version", "GET /metrics\r\n\r\n"},
      {"invalid method", "BREW /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
      {"header over 64 KB", "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " +
                                std::string(size_t{70} * 1024, 'a') + "\r\n\r\n"},
      {"header line without a colon", "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n"},
      {"negative content length",
       "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n"},
  };
}

// "4xx" for an answer of that class, "closed" for a connection closed without one, or
// the status line of anything else.
std::string outcome(const std::optional<std::string>& answer) {
  if (!answer) return "no answer and not closed";
  if (answer->empty()) return "closed";
  std::string line = answer->substr(0, answer->find("\r\n"));
  if (line.size() >= 12 && line.rfind("HTTP/1.", 0) == 0 && line[9] == '4') return "4xx";
  return line;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<size_t>(std::lround(p * static_cast<double>(sorted.size() - 1)));
  return sorted[std::min(i, sorted.size() - 1)];
}

class HttpAbuseTest : public testing::LabDaemonFixture {
 protected:
  std::optional<double> metric(const std::string& name,
                               const std::map<std::string, std::string>& labels = {}) {
    auto r = testing::http_get(url("/metrics"));
    if (r.status != 200) return std::nullopt;
    return testing::metric_value(r.body, name, labels);
  }
};

TEST_F(HttpAbuseTest, FiftyScrapersSlowClientsAndGarbageLeaveEveryScrapeAndTheMonitorWhole) {
  auto daemon = start(config(json::array({{{"name", "host1.ddnswatch.test"},
                                           {"type", "A"},
                                           {"expect", "authoritative"},
                                           {"resolvers", {"fast"}},
                                           {"interval", "1s"}}})));
  ASSERT_TRUE(daemon->running()) << daemon->err();
  const std::map<std::string, std::string> fast_noerror = {{"resolver", "fast"},
                                                           {"outcome", "noerror"}};
  ASSERT_TRUE(testing::wait_until(
      [&] { return metric("ddnswatch_dns_queries_total", fast_noerror).value_or(0) >= 1; },
      seconds(10)))
      << "the monitor never asked the lab\n"
      << daemon->err();
  const double cycle_before = *metric("ddnswatch_monitor_last_cycle_timestamp_seconds");
  const double queries_before = *metric("ddnswatch_dns_queries_total", fast_noerror);

  std::atomic<bool> stop{false};
  std::mutex mu;  // guards the vectors below
  std::vector<double> latencies_ms;
  std::vector<std::string> failures;
  std::vector<std::string> malformed_problems;
  std::map<std::string, int> malformed_outcomes;
  std::vector<double> cut_after_s;  // how long the server let a slow client hang on
  std::vector<std::string> slow_problems;

  std::vector<std::thread> threads;
  threads.reserve(kScrapers + kDribblers + kSilent + 1);
  for (int i = 0; i < kScrapers; ++i) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      std::vector<std::string> failed;
      while (!stop) {
        const auto t0 = Clock::now();
        auto r = testing::http_get(url("/metrics"), seconds(5));
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (r.status != 200 || r.body.find("ddnswatch_build_info") == std::string::npos) {
          failed.push_back("status " + std::to_string(r.status) + " " + r.error);
        }
      }
      std::lock_guard lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      failures.insert(failures.end(), failed.begin(), failed.end());
    });
  }
  // Slow clients: a partial request one byte a second, or nothing; reconnect when cut off.
  for (int i = 0; i < kDribblers + kSilent; ++i) {
    const bool silent = i >= kDribblers;
    threads.emplace_back([&, silent] {
      const std::string partial = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
      while (!stop) {
        RawConnection c(port_);
        if (!c.connected()) {
          std::lock_guard lock(mu);
          slow_problems.push_back("connect failed");
          return;
        }
        const auto t0 = Clock::now();
        bool cut = false;
        for (size_t k = 0; !stop && !cut; ++k) {
          if (!silent && !c.send_all(std::string(1, partial[k % partial.size()]))) cut = true;
          if (!cut && c.peer_acted(seconds(1))) cut = true;  // also the pacing
        }
        if (cut) {
          std::lock_guard lock(mu);
          cut_after_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        }
      }
    });
  }
  // Malformed requests, one after the other, each on a fresh connection.
  threads.emplace_back([&] {
    const auto requests = malformed_requests();
    for (size_t k = 0; !stop; ++k) {
      const Malformed& m = requests[k % requests.size()];
      RawConnection c(port_);
      std::string result;
      if (!c.connected()) {
        result = "connect failed";
      } else {
        c.send_all(m.bytes);  // the server may close before it has read everything
        result = outcome(c.read_until_closed(seconds(5)));
      }
      std::lock_guard lock(mu);
      ++malformed_outcomes[m.label + ": " + result];
      if (result != "4xx" && result != "closed")
        malformed_problems.push_back(m.label + ": " + result);
    }
  });

  const auto began = Clock::now();
  while (Clock::now() - began < kAbuseTime && daemon->running()) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  stop = true;
  for (auto& t : threads) t.join();

  ASSERT_TRUE(daemon->running()) << "the daemon died under abuse:\n" << daemon->err();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::printf("%zu scrapes by %d clients in %lld s: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              latencies_ms.size(), kScrapers,
              static_cast<long long>(std::chrono::duration_cast<seconds>(kAbuseTime).count()),
              percentile(latencies_ms, 0.5), percentile(latencies_ms, 0.99),
              latencies_ms.empty() ? 0.0 : latencies_ms.back());
  for (const auto& [what, count] : malformed_outcomes) {
    std::printf("malformed: %s x%d\n", what.c_str(), count);
  }
  std::sort(cut_after_s.begin(), cut_after_s.end());
  std::printf("slow clients cut off %zu times, after %.1f s to %.1f s\n", cut_after_s.size(),
              cut_after_s.empty() ? 0.0 : cut_after_s.front(),
              cut_after_s.empty() ? 0.0 : cut_after_s.back());

  EXPECT_GE(latencies_ms.size(), static_cast<size_t>(kScrapers));
  // With too few server threads the slow clients hold them all and a scrape waits for the
  // request timeout to free one: the median is then a second.
  EXPECT_LT(percentile(latencies_ms, 0.5), 500.0) << "scrapes wait for slow clients";
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed scrapes, first: " << failures[0];
  EXPECT_TRUE(malformed_problems.empty()) << malformed_problems[0];
  EXPECT_TRUE(slow_problems.empty()) << slow_problems[0];
  EXPECT_FALSE(cut_after_s.empty()) << "slow clients were never cut off";
  if (!cut_after_s.empty()) {
    EXPECT_LT(cut_after_s.back(), 5.0) << "a slow client held on too long";
  }

  // The monitor kept cycling: its loop is not starved by the HTTP threads.
  auto cycle_after = metric("ddnswatch_monitor_last_cycle_timestamp_seconds");
  auto queries_after = metric("ddnswatch_dns_queries_total", fast_noerror);
  ASSERT_TRUE(cycle_after && queries_after);
  std::printf("monitor: %.0f queries to the lab, last cycle %.1f s later than before\n",
              *queries_after - queries_before, *cycle_after - cycle_before);
  EXPECT_GE(*cycle_after - cycle_before, 5.0);
  EXPECT_GE(*queries_after - queries_before, 5.0);
  EXPECT_EQ(testing::http_get(url("/healthz")).status, 200);
}

}  // namespace
}  // namespace ddnswatch
