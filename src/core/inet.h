// inet_pton, inet_ntop and the byte-order functions, from wherever the platform keeps them.
// For .cpp files only: on Windows this pulls in winsock2.h.
#pragma once

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
// windows.h's 16-bit leftovers, empty macros that would swallow ordinary names.
#undef near
#undef far

namespace ddnswatch {

/// inet_ntop that prints what glibc prints. Windows writes a few IPv4-mapped IPv6 addresses
/// its own way ("::ffff:0:0" for ::ffff:0.0.0.0), and addresses are compared and exported as
/// text. Inside namespace ddnswatch this hides ::inet_ntop for unqualified calls.
const char* inet_ntop(int family, const void* address, char* out, socklen_t size);

}  // namespace ddnswatch
#else
#include <arpa/inet.h>
#endif
