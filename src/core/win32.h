// Small helpers for the Windows-only code paths: UTF-8 <-> UTF-16 for the W functions, and
// GetLastError codes in words. Compiled on Windows only; the header includes no windows.h.
#pragma once

#ifdef _WIN32

#include <string>
#include <string_view>

namespace ddnswatch::win32 {

/// UTF-8 to UTF-16, for the Windows API's W functions.
std::wstring widen(std::string_view utf8);
/// UTF-16 to UTF-8.
std::string narrow(std::wstring_view wide);
/// The system's message for a GetLastError() or WSAGetLastError() code, with the code:
/// "Access is denied. (5)".
std::string error_text(unsigned long code);

}  // namespace ddnswatch::win32

#endif
