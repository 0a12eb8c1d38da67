// The parts of support/process.h that need no process control, on Linux and on Windows: the
// Windows build's unit tests use them too.
#include <thread>

#include "support/process.h"
#include "support/sockets.h"

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
  Socket fd = open_socket(SOCK_STREAM);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close_socket(fd);
  return ntohs(addr.sin_port);
}

}  // namespace ddnswatch::testing
