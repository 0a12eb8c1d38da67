// Time is injected: steady time for intervals and deadlines, wall time only for logs and
// exported timestamps. Production code uses SystemClock; tests use a fake they advance.
#pragma once

#include <chrono>
#include <ctime>
#include <optional>
#include <string>

namespace ddnswatch {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::milliseconds;

/// Any thread may call a Clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime steady_now() const = 0;
  virtual WallTime wall_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
};

/// Seconds since the Unix epoch, as Prometheus timestamps want them.
inline double to_unix_seconds(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace ddnswatch

namespace ddnswatch {

/// "2026-11-24T15:46:00Z"
std::string format_utc(WallTime t);
/// "20261124T154600Z", for file names.
std::string format_utc_compact(WallTime t);
/// An HTTP date in the one form servers send ("Sun, 06 Nov 1994 08:49:37 GMT"), as seconds
/// since the Unix epoch; nothing when it has another shape.
std::optional<std::time_t> parse_http_date_seconds(const std::string& text);

}  // namespace ddnswatch
