#include "core/clock.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#ifdef _WIN32
#include <iomanip>
#include <locale>
#include <sstream>
#endif

namespace ddnswatch {

std::string format_utc(WallTime t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

std::string format_utc_compact(WallTime t) {
  return fmt::format("{:%Y%m%dT%H%M%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

std::optional<std::time_t> parse_http_date_seconds(const std::string& text) {
  std::tm tm{};
#ifdef _WIN32
  // No strptime on Windows; the classic locale keeps the English day and month names.
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
  const std::time_t t = _mkgmtime(&tm);
#else
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::time_t t = timegm(&tm);
#endif
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return t;
}

}  // namespace ddnswatch
