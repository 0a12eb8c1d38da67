#include "core/clock.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace ddnswatch {

std::string format_utc(WallTime t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

std::string format_utc_compact(WallTime t) {
  return fmt::format("{:%Y%m%dT%H%M%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

}  // namespace ddnswatch
