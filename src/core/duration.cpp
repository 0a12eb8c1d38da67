#include "core/duration.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <limits>
#include <utility>

namespace ddnswatch {
namespace {

constexpr std::array<std::pair<std::string_view, int64_t>, 5> kUnits{{
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"d", 24 * 60 * 60 * 1000},
}};

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  auto invalid = [&] {
    // fmt, not "literal" + string: g++ 12 at -O3 warns falsely (-Wrestrict) on the latter.
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("\"{}\" is not a duration; write a number and a unit (ms, s, "
                                  "m, h, d), such as \"30s\", \"5m\" or \"1h30m\"",
                                  text));
  };
  if (text.empty()) return invalid();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return invalid();
    int64_t number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (number > std::numeric_limits<int64_t>::max() / 10 - 9) return invalid();
      number = number * 10 + (text[i] - '0');
      ++i;
    }
    size_t unit_start = i;
    while (i < text.size() && ((text[i] >= 'a' && text[i] <= 'z'))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    bool found = false;
    for (const auto& [name, millis] : kUnits) {
      if (unit == name) {
        if (number > std::numeric_limits<int64_t>::max() / millis) return invalid();
        if (total > std::numeric_limits<int64_t>::max() - number * millis) return invalid();
        total += number * millis;
        found = true;
        break;
      }
    }
    if (!found) return invalid();
  }
  return Duration(total);
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  // Largest unit first; stop at seconds unless milliseconds remain.
  for (auto it = kUnits.rbegin(); it != kUnits.rend(); ++it) {
    if (ms >= it->second) {
      out += std::to_string(ms / it->second);
      out += it->first;
      ms %= it->second;
    }
  }
  return out;
}

}  // namespace ddnswatch
