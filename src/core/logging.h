// Process-wide logging through spdlog: to stderr, as text for people or as JSON lines for
// log shippers. Configured once in main, before any thread starts.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace ddnswatch {

enum class LogFormat { kText, kJson };

struct LogOptions {
  LogFormat format = LogFormat::kText;
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
};

/// The accepted level names, for CLI validation and help.
const char* log_level_names();

Result<LogFormat> parse_log_format(std::string_view name);

/// Installs the default logger. Returns an error for an unknown level name.
Result<void> setup_logging(const LogOptions& options);

/// Escapes `text` as the inside of a JSON string.
std::string json_escape(std::string_view text);

}  // namespace ddnswatch
