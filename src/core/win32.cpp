#include "core/win32.h"

#include <fmt/format.h>
#include <windows.h>

#include "core/inet.h"

namespace ddnswatch::win32 {

std::wstring widen(std::string_view utf8) {
  if (utf8.empty()) return {};
  const int n =
      MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

std::string narrow(std::wstring_view wide) {
  if (wide.empty()) return {};
  const int n = WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), nullptr,
                                    0, nullptr, nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), out.data(), n,
                      nullptr, nullptr);
  return out;
}

std::string error_text(unsigned long code) {
  wchar_t* buffer = nullptr;
  const DWORD n = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, 0, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
  std::string text = n > 0 ? narrow(std::wstring_view(buffer, n)) : std::string();
  if (buffer) LocalFree(buffer);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (text.empty()) return fmt::format("error {}", code);
  return fmt::format("{} ({})", text, code);
}

}  // namespace ddnswatch::win32

namespace ddnswatch {

// The algorithm of glibc's (and BIND's) inet_ntop6: the longest run of two or more zero
// groups becomes "::" (the first of equal runs), and ::a.b.c.d and ::ffff:a.b.c.d keep the
// IPv4 part in dotted form.
const char* inet_ntop(int family, const void* address, char* out, socklen_t size) {
  if (family != AF_INET6) return ::inet_ntop(family, address, out, size);
  const auto* b = static_cast<const unsigned char*>(address);
  unsigned words[8];
  for (int i = 0; i < 8; ++i) words[i] = (unsigned{b[2 * i]} << 8) | b[2 * i + 1];
  int best = -1, best_len = 0, cur = -1, cur_len = 0;
  for (int i = 0; i <= 8; ++i) {
    if (i < 8 && words[i] == 0) {
      if (cur < 0) {
        cur = i;
        cur_len = 0;
      }
      ++cur_len;
    } else if (cur >= 0) {
      if (cur_len > best_len) {
        best = cur;
        best_len = cur_len;
      }
      cur = -1;
    }
  }
  if (best_len < 2) best = -1;
  std::string text;
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best) text += ':';
      continue;
    }
    if (i != 0) text += ':';
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
      text += fmt::format("{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
      break;
    }
    text += fmt::format("{:x}", words[i]);
  }
  if (best >= 0 && best + best_len == 8) text += ':';
  if (text.size() + 1 > static_cast<size_t>(size)) {
    WSASetLastError(WSAEINVAL);
    return nullptr;
  }
  text.copy(out, text.size());
  out[text.size()] = '\0';
  return out;
}

}  // namespace ddnswatch
