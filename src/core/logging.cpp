#include "core/logging.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#ifdef _WIN32
#include <spdlog/sinks/win_eventlog_sink.h>
#endif

#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

namespace ddnswatch {
namespace {

// One JSON object per line: {"ts":"...","level":"info","msg":"..."}.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()) % 1000;
    auto level_sv = spdlog::level::to_string_view(msg.level);
    std::string_view level(level_sv.data(), level_sv.size());
    std::string text = json_escape(std::string_view(msg.payload.data(), msg.payload.size()));
    fmt::format_to(std::back_inserter(dest),
                   R"({{"ts":"{:%Y-%m-%dT%H:%M:%S}.{:03d}Z","level":"{}","msg":"{}"}})",
                   fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)),
                   static_cast<int>(millis.count()), level, text);
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

const char* log_level_names() { return "trace, debug, info, warn, error, critical, off"; }

Result<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("unknown log format \"{}\" (use text or json)", name));
}

Result<void> setup_logging(const LogOptions& options) {
  auto level = spdlog::level::from_str(options.level);
  // from_str maps anything unknown to "off"; only "off" itself may mean off.
  if (level == spdlog::level::off && options.level != "off") {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("unknown log level \"{}\" (use one of {})", options.level, log_level_names()));
  }
  std::vector<spdlog::sink_ptr> sinks;
  if (options.console) {
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
        options.format == LogFormat::kJson ? spdlog::color_mode::never
                                           : spdlog::color_mode::automatic));
  }
  if (!options.file.empty()) {
    constexpr size_t kMaxFileSize = 10 * 1024 * 1024;
    constexpr size_t kOldFiles = 3;
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          options.file.string(), kMaxFileSize, kOldFiles));
    } catch (const spdlog::spdlog_ex& e) {
      return make_error(ErrorCode::kIo,
                        fmt::format("cannot log to {}: {}", options.file.string(), e.what()));
    }
  }
  auto logger = std::make_shared<spdlog::logger>("ddnswatch", sinks.begin(), sinks.end());
  if (options.format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  }
#ifdef _WIN32
  if (options.event_log) {
    // The Event Viewer adds the time and the level itself: the message alone.
    auto event_log = std::make_shared<spdlog::sinks::win_eventlog_sink_mt>("ddnswatch");
    event_log->set_pattern("%v");
    logger->sinks().push_back(std::move(event_log));
  }
#endif
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return {};
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace ddnswatch
