// The daemon: owns the event loop and everything on it, the metric catalog and the HTTP
// endpoint; loads the config at start and on SIGHUP; stops on SIGINT and SIGTERM (on Windows:
// Ctrl+C, Ctrl+Break and closing the console, or the service's controls).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "config/config_loader.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/result.h"
#include "resolvers/directory.h"

namespace ddnswatch::app {

struct DaemonOptions {
  std::filesystem::path config_path;
  // Set when the command line chose them; they then win over the config's "log" section.
  std::optional<std::string> log_level;
  std::optional<std::string> log_format;
  /// Where the process logs besides (or instead of) stderr: the Windows service's choice.
  bool log_console = true;
  std::filesystem::path log_file;
  bool log_event_log = false;
  /// Windows: stop on the console's Ctrl+C, Ctrl+Break and close events. A service has no
  /// console and takes its stop from the Service Control Manager instead.
  bool console_events = true;
};

/// A config whose references to resolvers and sets resolved, with the directory they
/// resolved in (built once: it may read a catalog file).
struct CheckedConfig {
  config::Config config;
  resolvers::ResolverDirectory directory;
};
using CheckResult = tl::expected<CheckedConfig, std::vector<config::Diagnostic>>;

/// Checks `cfg`'s references to resolvers and sets against the catalog.
CheckResult check_config(config::Config cfg);
/// Loads the config and checks it: what `ddnswatch check`, probe, start-up and reloads use.
CheckResult load_and_check_config(const std::filesystem::path& path);

/// The logging the daemon runs with: the command line's choices win over the config's "log".
LogOptions effective_log_options(const DaemonOptions& options, const config::Config& cfg);

/// Create, run and destroy on one thread (main).
class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> create(const DaemonOptions& options, CheckedConfig checked,
                                                const Clock& clock);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// Serves until SIGINT or SIGTERM (or request_stop()); returns the process exit code.
  int run();

  /// Thread-safe.
  void request_stop();

  /// What SIGHUP does (the Windows service's PARAMCHANGE): reload the config and retry the
  /// records their provider refused. Thread-safe.
  void request_reload();

 private:
  struct Impl;
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The version string and the git revision this binary was built from.
const char* version();
const char* revision();

}  // namespace ddnswatch::app
