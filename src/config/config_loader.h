// Strict loading of the JSON config: every unknown key, wrong type, bad value and missing
// key is reported with its JSON path (not just the first), misspellings get "did you mean",
// ${ENV} is expanded in strings, *_file keys read secrets from files.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "config/config.h"

namespace ddnswatch::config {

struct Diagnostic {
  std::string path;  // JSON pointer, e.g. "/records/0/provider/kind"; empty for syntax errors
  std::string message;
  std::string to_string() const { return path.empty() ? message : path + ": " + message; }
  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// Looks variables up in the process environment.
EnvLookup process_environment();

using LoadResult = tl::expected<Config, std::vector<Diagnostic>>;

/// Parses `text`. Relative paths in it (secrets' *_file, the resolver catalog, state_dir)
/// are taken relative to the folder of `source`.
LoadResult parse_config(std::string_view text, const std::filesystem::path& source,
                        const EnvLookup& env = process_environment());

/// Reads and parses the file at `path`.
LoadResult load_config(const std::filesystem::path& path,
                       const EnvLookup& env = process_environment());

/// The closest candidate to `word` by edit distance, if it is close enough to be a likely typo.
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates);

}  // namespace ddnswatch::config
