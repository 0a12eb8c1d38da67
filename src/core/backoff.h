// The one exponential backoff of the program (IP sources, the updater, notification sinks):
// `base` doubled after each failure in a row, capped at `cap`, scaled by a jitter the caller
// draws (0.8 to 1.2), so that many clients that failed together do not retry together.
#pragma once

#include <algorithm>
#include <cmath>

#include "core/clock.h"

namespace ddnswatch {

/// The wait after the `failures`-th failure in a row (1 = the first).
inline Duration exponential_backoff(int failures, Duration base, Duration cap, double jitter) {
  double ms = static_cast<double>(base.count()) * std::pow(2.0, std::clamp(failures - 1, 0, 30));
  ms = std::min(ms, static_cast<double>(cap.count()));
  ms *= std::clamp(jitter, 0.5, 1.5);
  return Duration(static_cast<Duration::rep>(ms));
}

}  // namespace ddnswatch
