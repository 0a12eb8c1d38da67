// The BSD socket calls of the tests' hand-made servers, on Linux and on Windows (Winsock), so
// that a test reads the same on both.
#pragma once

#include <cstddef>
#include <string>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace ddnswatch::testing {

#ifdef _WIN32
using Socket = SOCKET;
inline const Socket kNoSocket = INVALID_SOCKET;
#else
using Socket = int;
inline constexpr Socket kNoSocket = -1;
#endif

/// A socket of `type` (SOCK_STREAM, SOCK_DGRAM) for IPv4; kNoSocket on failure. On Windows
/// the first call starts Winsock, which curl or civetweb may not have done yet.
inline Socket open_socket(int type) {
#ifdef _WIN32
  static const bool started = [] {
    WSADATA data;
    return WSAStartup(MAKEWORD(2, 2), &data) == 0;
  }();
  if (!started) return kNoSocket;
#endif
  return ::socket(AF_INET, type, 0);
}

inline void close_socket(Socket s) {
#ifdef _WIN32
  ::closesocket(s);
#else
  ::close(s);
#endif
}

inline int poll_sockets(pollfd* fds, size_t count, int timeout_ms) {
#ifdef _WIN32
  return ::WSAPoll(fds, static_cast<ULONG>(count), timeout_ms);
#else
  return ::poll(fds, count, timeout_ms);
#endif
}

/// recv(); what it returns: bytes, 0 at the end, negative on error.
inline long receive(Socket s, char* buffer, size_t size) {
  return static_cast<long>(::recv(s, buffer, static_cast<int>(size), 0));
}

inline long receive_from(Socket s, char* buffer, size_t size, sockaddr_in* from, socklen_t* len) {
  return static_cast<long>(
      ::recvfrom(s, buffer, static_cast<int>(size), 0, reinterpret_cast<sockaddr*>(from), len));
}

inline void send_to(Socket s, const std::string& data, const sockaddr_in& to, socklen_t len) {
  ::sendto(s, data.data(), static_cast<int>(data.size()), 0, reinterpret_cast<const sockaddr*>(&to),
           len);
}

/// send() that never raises SIGPIPE when the peer has gone.
inline void send_bytes(Socket s, const std::string& data) {
#ifdef _WIN32
  ::send(s, data.data(), static_cast<int>(data.size()), 0);
#else
  ::send(s, data.data(), data.size(), MSG_NOSIGNAL);
#endif
}

/// True under Wine (its ntdll exports wine_get_version). Wine 8.0's wineserver aborts now and
/// then under many sockets polled at once (server/sock.c, complete_async_poll), taking the
/// test process down with it: load tests skip themselves there, and run on real Windows.
inline bool under_wine() {
#ifdef _WIN32
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
#else
  return false;
#endif
}

inline void set_receive_timeout(Socket s, int seconds) {
#ifdef _WIN32
  const DWORD ms = static_cast<DWORD>(seconds) * 1000;
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&ms), sizeof ms);
#else
  timeval tv{seconds, 0};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
#endif
}

}  // namespace ddnswatch::testing
