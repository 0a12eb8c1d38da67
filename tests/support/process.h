// Child processes for integration tests: started with posix_spawn, output captured to files
// in a temp folder, stopped by PID, every wait bounded by a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ddnswatch::testing {

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

class Process {
 public:
  /// Starts argv[0] (a path) with the given arguments; stdout and stderr go to files in `dir`.
  Process(std::vector<std::string> argv, const std::filesystem::path& dir,
          std::vector<std::string> extra_env = {});
  ~Process();  // SIGKILLs the child if it still runs
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  /// Waits for exit up to `timeout`; returns the exit status (128+N for signal N) or nullopt.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

  std::string out() const;  // everything written to stdout so far
  std::string err() const;  // everything written to stderr so far

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path out_;
  std::filesystem::path err_;
};

/// Runs a command to completion (bounded by `timeout`) and returns {exit code, stdout, stderr}.
struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};
RunResult run_command(std::vector<std::string> argv, const std::filesystem::path& dir,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30),
                      std::vector<std::string> extra_env = {});

/// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t free_port();

}  // namespace ddnswatch::testing
