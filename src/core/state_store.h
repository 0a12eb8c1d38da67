// The daemon's memory across restarts: one versioned JSON document in state_dir, replaced
// atomically on every save. A file that does not parse is reported and moved aside for a
// person to look at, never silently reset.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace ddnswatch {

/// Loop thread only (or any single thread).
class StateStore {
 public:
  static constexpr int kFormatVersion = 1;
  static constexpr const char* kFileName = "state.json";

  StateStore(std::filesystem::path dir, const Clock& clock);

  std::filesystem::path file() const { return dir_ / kFileName; }

  struct Loaded {
    nlohmann::json data = nlohmann::json::object();    // the "data" member; empty when none
    std::optional<std::filesystem::path> moved_aside;  // set when a corrupt file was moved
    std::string problem;                               // why it was moved aside
  };

  /// Creates state_dir if needed, removes temp files a crash left behind, and reads the file.
  /// A missing file is an empty state. A corrupt file is renamed to state.json.corrupt-<time>
  /// and reported in the result. A file from a newer format version is an error, untouched.
  Result<Loaded> load();

  /// Replaces the file with {"version":1,"written_at":...,"data":<data>}.
  Result<void> save(const nlohmann::json& data);

 private:
  std::filesystem::path dir_;
  const Clock& clock_;
};

}  // namespace ddnswatch
