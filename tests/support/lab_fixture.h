// The GoogleTest fixture of every test that needs the DNS lab: one lab per test suite (under
// ctest, per process), started in SetUpTestSuite and stopped in TearDownTestSuite. A lab that
// does not come up fails each test with the script's error; tests never skip themselves.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "support/http_get.h"
#include "support/lab.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch::testing {

class LabFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lab_dir_ = std::make_unique<TempDir>();
    lab_error_.clear();
    lab_ = Lab::start(lab_dir_->path(), &lab_error_);
  }
  static void TearDownTestSuite() {
    lab_.reset();
    lab_dir_.reset();
  }
  void SetUp() override {
    ASSERT_NE(lab_, nullptr) << "the DNS lab did not start:\n" << lab_error_;
  }

  static inline std::unique_ptr<TempDir> lab_dir_;
  static inline std::unique_ptr<Lab> lab_;
  static inline std::string lab_error_;
};

/// The lab plus a ddnswatch daemon per test, configured with the lab's resolvers. The
/// daemon's binary comes from DDNSWATCH_BINARY, a compile definition of the test target.
class LabDaemonFixture : public LabFixture {
 protected:
  /// A config: listen on port_, state in dir_, the lab's resolvers, and `watch`.
  nlohmann::json config(nlohmann::json watch) const {
    return {{"listen", "127.0.0.1:" + std::to_string(port_)},
            {"state_dir", (dir_.path() / "state").string()},
            {"resolvers", lab_->resolvers_section()},
            {"watch", std::move(watch)}};
  }

  /// Writes `cfg` to dir_/ddnswatch.json, starts the daemon on it and waits for /healthz.
  std::unique_ptr<Process> start(const nlohmann::json& cfg) {
    config_path_ = dir_.write("ddnswatch.json", cfg.dump(2));
    auto p = std::make_unique<Process>(
        std::vector<std::string>{DDNSWATCH_BINARY, "run", "--config", config_path_.string()},
        dir_.path());
    EXPECT_TRUE(wait_until([&] { return http_get(url("/healthz")).status == 200; },
                           std::chrono::seconds(10)))
        << p->err();
    return p;
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  TempDir dir_;
  uint16_t port_ = free_port();
  std::filesystem::path config_path_;
};

}  // namespace ddnswatch::testing
