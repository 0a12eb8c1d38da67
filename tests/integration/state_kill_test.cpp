// A process that is saving the state is SIGKILLed at random moments, again and again; after
// each kill the file must parse, hold one whole document, and never go backwards.
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/atomic_file.h"
#include "core/state_store.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

// The counter of the file as it is now, read without StateStore::load(), which would remove
// the writer's temp file under its feet; 0 while there is no whole document.
int64_t saved_counter(const std::filesystem::path& file) {
  auto text = read_file(file);
  if (!text) return 0;
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_object()) return 0;
  return doc["data"].value("counter", int64_t{0});
}

// Whether a temp file of an unfinished save lies in `dir`.
bool temp_file_left(const std::filesystem::path& dir) {
  const std::string prefix = std::string(".") + StateStore::kFileName + ".tmp.";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(StateKillTest, FileAlwaysParsesAfterSigkillDuringWrites) {
  testing::TempDir dir;
  std::filesystem::path state_dir = dir.path() / "state";
  SystemClock clock;
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay_us(0, 30000);
  constexpr int kRounds = 150;
  int64_t last_counter = 0;
  int torn = 0;
  for (int round = 0; round < kRounds; ++round) {
    {
      testing::Process writer({STATE_WRITER_BINARY, state_dir.string()}, dir.path());
      // Not before the writer's loop runs: however slowly a loaded machine starts the process,
      // the kill comes after this round's first save, at a random point of the loop.
      ASSERT_TRUE(testing::wait_until(
          [&] { return saved_counter(state_dir / StateStore::kFileName) > last_counter; },
          std::chrono::seconds(20)))
          << "round " << round << ": the writer saved nothing\n"
          << writer.err();
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
      writer.signal(SIGKILL);
      auto status = writer.wait(std::chrono::seconds(10));
      ASSERT_TRUE(status.has_value()) << "writer did not die";
      ASSERT_EQ(*status, 128 + SIGKILL) << writer.err();
    }
    // A temp file left behind: the kill landed inside a save, between create and rename.
    if (temp_file_left(state_dir)) ++torn;
    StateStore store(state_dir, clock);
    auto loaded = store.load();
    ASSERT_TRUE(loaded) << "round " << round << ": " << loaded.error().message;
    ASSERT_FALSE(loaded->moved_aside) << "round " << round << ": " << loaded->problem;
    ASSERT_FALSE(loaded->data.empty())
        << "round " << round << ": state lost after counter " << last_counter;
    int64_t counter = loaded->data["counter"].get<int64_t>();
    const std::string& payload = loaded->data["payload"].get_ref<const std::string&>();
    ASSERT_EQ(payload.size(), static_cast<size_t>(counter * 7919 % 200000)) << "mixed document";
    if (!payload.empty()) {
      ASSERT_EQ(payload[0], static_cast<char>('a' + counter % 26));
    }
    // Every round saved at least once before its kill, so the counter moved on.
    ASSERT_GT(counter, last_counter) << "round " << round << ": state went backwards or was lost";
    last_counter = counter;
  }
  // Some kills must have hit a save in the middle, or the test proves nothing about them.
  EXPECT_GT(torn, 0) << "no kill landed inside a save";
  RecordProperty("saves_completed", std::to_string(last_counter));
  RecordProperty("kills_inside_a_save", std::to_string(torn));
}

}  // namespace
}  // namespace ddnswatch
