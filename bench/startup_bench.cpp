// startup_bench: how long the daemon takes from exec until it serves, and how much memory it
// holds then (bench/README.md). Each run starts the program with NOTIFY_SOCKET set to a socket
// of its own, then polls (every millisecond) for READY=1 and for `GET /healthz` answering 200
// on 127.0.0.1:PORT; once both came, it scrapes /metrics once (an idle daemon is scraped),
// reads VmRSS and VmHWM from /proc/PID/status, and stops the program with SIGTERM.
//
//   startup_bench --port PORT [--runs N] -- PROGRAM [ARGS...]
//
// The config given to PROGRAM must listen on 127.0.0.1:PORT. Output: one line per run, then
// `startup median: healthz X ms, READY Y ms` and `idle RSS: VmRSS A MB, VmHWM B MB` (medians).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "startup_bench: %s\n", message.c_str());
  std::exit(2);
}

double ms_since(Clock::time_point from) {
  return std::chrono::duration<double, std::milli>(Clock::now() - from).count();
}

/// One HTTP/1.0 GET on 127.0.0.1:port; the status code, or nothing when nobody answers.
std::optional<int> http_get(uint16_t port, const char* path, size_t* body_bytes = nullptr) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{2, 0};  // a daemon that accepted answers well within this
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::optional<int> status;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
    const std::string request = std::string("GET ") + path + " HTTP/1.0\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      std::string response;
      char buffer[65536];
      ssize_t got = 0;
      while ((got = recv(fd, buffer, sizeof buffer, 0)) > 0) {
        response.append(buffer, static_cast<size_t>(got));
      }
      if (response.rfind("HTTP/1.", 0) == 0 && response.size() >= 12) {
        status = std::atoi(response.c_str() + 9);
        const auto body = response.find("\r\n\r\n");
        if (body_bytes != nullptr && body != std::string::npos) {
          *body_bytes = response.size() - body - 4;
        }
      }
    }
  }
  close(fd);
  return status;
}

/// VmRSS and VmHWM of a process, in MB.
std::pair<double, double> memory_mb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  double rss = 0;
  double hwm = 0;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return {rss, hwm};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// SIGTERM, then SIGKILL if it has not exited within 5 s.
void stop(pid_t pid) {
  kill(pid, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

struct Run {
  double healthz_ms = 0;
  double ready_ms = 0;
  double rss_mb = 0;
  double hwm_mb = 0;
};

Run start_once(uint16_t port, char** program, int index) {
  // An abstract socket for READY=1, unique to this run.
  const std::string notify_name =
      "@ddnswatch-startup-bench-" + std::to_string(getpid()) + "-" + std::to_string(index);
  const int notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (notify_fd < 0) die("socket(AF_UNIX) failed");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, notify_name.data(), notify_name.size());
  addr.sun_path[0] = '\0';
  const auto addr_len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + notify_name.size());
  if (bind(notify_fd, reinterpret_cast<const sockaddr*>(&addr), addr_len) != 0) {
    die("cannot bind the notify socket");
  }
  if (http_get(port, "/healthz")) die("something already answers on the port");

  const auto started = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    setenv("NOTIFY_SOCKET", notify_name.c_str(), 1);
    execv(program[0], program);
    std::perror("startup_bench: exec");
    _exit(127);
  }

  Run run;
  const auto deadline = started + std::chrono::seconds(20);
  while (run.healthz_ms == 0 || run.ready_ms == 0) {
    if (Clock::now() > deadline) {
      stop(pid);
      die("the program did not answer /healthz and send READY=1 within 20 s");
    }
    if (waitpid(pid, nullptr, WNOHANG) == pid) die("the program exited during start-up");
    char message[512];
    const ssize_t got = recv(notify_fd, message, sizeof message - 1, 0);
    if (got > 0 && run.ready_ms == 0) {
      message[got] = '\0';
      if (std::strstr(message, "READY=1") != nullptr) run.ready_ms = ms_since(started);
    }
    if (run.healthz_ms == 0) {
      if (const auto status = http_get(port, "/healthz"); status && *status == 200) {
        run.healthz_ms = ms_since(started);
        continue;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  size_t bytes = 0;
  if (http_get(port, "/metrics", &bytes) != 200) die("/metrics does not answer 200");
  std::tie(run.rss_mb, run.hwm_mb) = memory_mb(pid);
  stop(pid);
  close(notify_fd);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  long port = 0;
  long runs = 7;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--") break;
    if (i + 1 >= argc) die(flag + " wants a value");
    if (flag == "--port") {
      port = std::strtol(argv[++i], nullptr, 10);
    } else if (flag == "--runs") {
      runs = std::strtol(argv[++i], nullptr, 10);
    } else {
      die("unknown option " + flag);
    }
  }
  if (port <= 0 || port > 65535 || runs < 1 || i + 1 >= argc) {
    die("usage: startup_bench --port PORT [--runs N] -- PROGRAM [ARGS...]");
  }
  char** program = argv + i + 1;

  std::vector<double> healthz;
  std::vector<double> ready;
  std::vector<double> rss;
  std::vector<double> hwm;
  for (int r = 0; r < runs; ++r) {
    const Run run = start_once(static_cast<uint16_t>(port), program, r);
    std::printf("start %d: /healthz %.1f ms, READY=1 %.1f ms, VmRSS %.1f MB, VmHWM %.1f MB\n",
                r + 1, run.healthz_ms, run.ready_ms, run.rss_mb, run.hwm_mb);
    healthz.push_back(run.healthz_ms);
    ready.push_back(run.ready_ms);
    rss.push_back(run.rss_mb);
    hwm.push_back(run.hwm_mb);
  }
  std::printf("startup median: healthz %.1f ms, READY %.1f ms (%ld starts)\n", median(healthz),
              median(ready), runs);
  std::printf("idle RSS: VmRSS %.1f MB, VmHWM %.1f MB\n", median(rss), median(hwm));
  return 0;
}
