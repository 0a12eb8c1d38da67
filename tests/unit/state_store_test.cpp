// The state file: round trips, a corrupt file is moved aside and reported, a newer format
// is refused untouched, temp files left by a crash are cleaned up.
#include "core/state_store.h"

#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

class FixedClock final : public Clock {
 public:
  SteadyTime steady_now() const override { return SteadyTime{}; }
  WallTime wall_now() const override { return WallTime{std::chrono::seconds(1795000000)}; }
};

TEST(StateStoreTest, MissingFileIsAnEmptyState) {
  testing::TempDir dir;
  FixedClock clock;
  StateStore store(dir.path() / "state", clock);
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->data.empty());
  EXPECT_FALSE(loaded->moved_aside);
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "state"));
}

TEST(StateStoreTest, SaveThenLoadRoundTrips) {
  testing::TempDir dir;
  FixedClock clock;
  StateStore store(dir.path(), clock);
  ASSERT_TRUE(store.save({{"addresses", {{"ipv4", "192.0.2.1"}}}}));
  auto loaded = store.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->data["addresses"]["ipv4"], "192.0.2.1");
  auto raw = nlohmann::json::parse(*read_file(store.file()));
  EXPECT_EQ(raw["version"], 1);
  EXPECT_EQ(raw["written_at"], "2026-11-18T11:06:40Z");
}

TEST(StateStoreTest, TruncatedFileIsMovedAsideAndReported) {
  testing::TempDir dir;
  FixedClock clock;
  dir.write("state.json", R"({"version": 1, "data": {"addresses": {"ip)");
  StateStore store(dir.path(), clock);
  auto loaded = store.load();
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(loaded->moved_aside);
  EXPECT_EQ(loaded->moved_aside->filename(), "state.json.corrupt-20261118T110640Z");
  EXPECT_EQ(loaded->problem, "the file is not valid JSON (truncated?)");
  EXPECT_TRUE(loaded->data.empty());
  EXPECT_FALSE(std::filesystem::exists(store.file()));
  // The bad bytes are kept for a person to inspect.
  EXPECT_EQ(*read_file(*loaded->moved_aside), R"({"version": 1, "data": {"addresses": {"ip)");
}

TEST(StateStoreTest, ForeignJsonIsMovedAside) {
  testing::TempDir dir;
  FixedClock clock;
  dir.write("state.json", R"([1, 2, 3])");
  auto loaded = StateStore(dir.path(), clock).load();
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->moved_aside);
  EXPECT_EQ(loaded->problem, "the file is JSON but not a ddnswatch state document");
}

TEST(StateStoreTest, NewerFormatIsRefusedAndLeftInPlace) {
  testing::TempDir dir;
  FixedClock clock;
  dir.write("state.json", R"({"version": 7, "data": {}})");
  StateStore store(dir.path(), clock);
  auto loaded = store.load();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ErrorCode::kUnsupported);
  EXPECT_TRUE(std::filesystem::exists(store.file()));
}

TEST(StateStoreTest, TempFilesFromACrashAreRemoved) {
  testing::TempDir dir;
  FixedClock clock;
  dir.write(".state.json.tmp.4242", "half a wri");
  ASSERT_TRUE(StateStore(dir.path(), clock).load());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / ".state.json.tmp.4242"));
}

TEST(StateStoreTest, UnwritableFolderIsAClearError) {
  testing::TempDir dir;
  FixedClock clock;
  dir.write("not-a-folder", "x");
  StateStore store(dir.path() / "not-a-folder" / "state", clock);
  auto loaded = store.load();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ErrorCode::kIo);
  EXPECT_NE(loaded.error().message.find("cannot create state_dir"), std::string::npos);
  auto saved = store.save({});
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace ddnswatch
