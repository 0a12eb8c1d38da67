// Replacing a file so that a reader, or a restart after a crash at any moment, sees either
// the old content or the new one, never a mix: temp file, fsync, rename, fsync of the folder.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ddnswatch {

/// Writes `content` to `path` atomically. The temp file sits in the same folder and starts
/// with ".", so it never matches the real name; on failure it is removed.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content);

Result<std::string> read_file(const std::filesystem::path& path);

}  // namespace ddnswatch
