#include "core/state_store.h"

#include <fmt/format.h>

#include <system_error>

#include "core/atomic_file.h"

namespace ddnswatch {
StateStore::StateStore(std::filesystem::path dir, const Clock& clock)
    : dir_(std::move(dir)), clock_(clock) {}

Result<StateStore::Loaded> StateStore::load() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot create state_dir {}: {}", dir_.string(), ec.message()));
  }
  // A crash between creating and renaming a temp file leaves it behind; it holds nothing the
  // real file does not.
  const std::string tmp_prefix = std::string(".") + kFileName + ".tmp.";
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().filename().string().rfind(tmp_prefix, 0) == 0) {
      std::filesystem::remove(entry.path(), ec);
    }
  }

  Loaded loaded;
  auto content = read_file(file());
  if (!content) {
    if (content.error().code == ErrorCode::kNotFound) return loaded;
    return tl::unexpected(content.error());
  }

  std::string problem;
  nlohmann::json doc = nlohmann::json::parse(*content, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    problem = content->empty() ? "the file is empty" : "the file is not valid JSON (truncated?)";
  } else if (!doc.is_object() || !doc.contains("version") || !doc["version"].is_number_integer() ||
             !doc.contains("data") || !doc["data"].is_object()) {
    problem = "the file is JSON but not a ddnswatch state document";
  } else if (doc["version"].get<int64_t>() > kFormatVersion) {
    return make_error(ErrorCode::kUnsupported,
                      fmt::format("{} has format version {}, newer than this ddnswatch "
                                  "understands ({}); run the newer ddnswatch or move the file",
                                  file().string(), doc["version"].get<int64_t>(), kFormatVersion));
  } else {
    loaded.data = std::move(doc["data"]);
    return loaded;
  }

  std::filesystem::path aside =
      dir_ / fmt::format("{}.corrupt-{}", kFileName, format_utc_compact(clock_.wall_now()));
  std::filesystem::rename(file(), aside, ec);
  if (ec) {
    return make_error(ErrorCode::kCorrupt,
                      fmt::format("{}: {}, and it could not be moved aside: {}", file().string(),
                                  problem, ec.message()));
  }
  loaded.moved_aside = aside;
  loaded.problem = problem;
  return loaded;
}

Result<void> StateStore::save(const nlohmann::json& data) {
  nlohmann::json doc = {
      {"version", kFormatVersion},
      {"written_at", format_utc(clock_.wall_now())},
      {"data", data},
  };
  return write_file_atomically(file(), doc.dump(2) + "\n");
}

}  // namespace ddnswatch
