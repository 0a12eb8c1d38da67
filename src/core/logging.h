// Process-wide logging through spdlog: to stderr, as text for people or as JSON lines for
// log shippers; a Windows service logs to a file and the Event Log instead. Configured in main
// before any thread starts, and again on a reload.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ddnswatch {

enum class LogFormat { kText, kJson };

struct LogOptions {
  LogFormat format = LogFormat::kText;
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  bool console = true;         // stderr
  /// Also to this file when set (appended; rotated at 10 MiB, 3 old files kept).
  std::filesystem::path file{};
  /// Also to the Windows Event Log (Application log, source "ddnswatch"); ignored elsewhere.
  bool event_log = false;
};

/// The accepted level names, for CLI validation and help.
const char* log_level_names();

Result<LogFormat> parse_log_format(std::string_view name);

/// Installs the default logger. Returns an error for an unknown level name.
Result<void> setup_logging(const LogOptions& options);

/// Escapes `text` as the inside of a JSON string.
std::string json_escape(std::string_view text);

}  // namespace ddnswatch
