// Human durations as the config writes them: "500ms", "30s", "5m", "1h30m", "1d".
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace ddnswatch {

/// Parses a sequence of <integer><unit> parts, unit one of ms, s, m, h, d. Zero is allowed
/// ("0s"); callers that need a positive duration check that themselves.
Result<Duration> parse_duration(std::string_view text);

/// The inverse, in the largest units that are exact: 90000ms -> "1m30s".
std::string format_duration(Duration d);

}  // namespace ddnswatch
