#include "app/service_notify.h"

#include <cstdlib>
#include <cstring>

#ifdef __linux__
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#endif

namespace ddnswatch::app {

ServiceNotifier::ServiceNotifier() {
#ifdef __linux__
  if (const char* s = std::getenv("NOTIFY_SOCKET"); s != nullptr) socket_ = s;
  // "@name" is an abstract socket; otherwise an absolute path.
  if (!socket_.empty() && socket_[0] != '/' && socket_[0] != '@') socket_.clear();
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  // WATCHDOG_PID names the process the watchdog is meant for; a child must not take it.
  if (usec != nullptr && (pid == nullptr || std::atol(pid) == static_cast<long>(getpid()))) {
    const long long us = std::atoll(usec);
    if (us > 0) {
      watchdog_interval_ = std::chrono::duration_cast<Duration>(std::chrono::microseconds(us / 2));
    }
  }
#endif
}

bool ServiceNotifier::send(const std::string& message) const {
#ifdef __linux__
  if (socket_.empty()) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, socket_.data(), socket_.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const ssize_t sent = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&addr), len);
  ::close(fd);
  return sent == static_cast<ssize_t>(message.size());
#else
  (void)message;
  return false;
#endif
}

void ServiceNotifier::ready(const std::string& status) { send("READY=1\nSTATUS=" + status); }

void ServiceNotifier::reloading() {
#ifdef __linux__
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  send("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" + std::to_string(usec));
#endif
}

void ServiceNotifier::stopping() { send("STOPPING=1\nSTATUS=stopping"); }

void ServiceNotifier::watchdog() { send("WATCHDOG=1"); }

}  // namespace ddnswatch::app
