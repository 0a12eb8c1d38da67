// The parts of support/process.h that the unit tests use, for the Windows build (the process
// control itself is POSIX and serves the Linux integration tests only).
#include <winsock2.h>
#include <ws2tcpip.h>

#include <thread>

#include "support/process.h"

namespace ddnswatch::testing {

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

uint16_t free_port() {
  // Winsock must be up before the first socket; curl or civetweb may not have started it yet.
  static const bool started = [] {
    WSADATA data;
    return WSAStartup(MAKEWORD(2, 2), &data) == 0;
  }();
  (void)started;
  SOCKET fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::closesocket(fd);
  return ntohs(addr.sin_port);
}

}  // namespace ddnswatch::testing
