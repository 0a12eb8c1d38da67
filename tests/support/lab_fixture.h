// The GoogleTest fixture of every test that needs the DNS lab: one lab per test suite (under
// ctest, per process), started in SetUpTestSuite and stopped in TearDownTestSuite. A lab that
// does not come up fails each test with the script's error; tests never skip themselves.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/lab.h"
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

}  // namespace ddnswatch::testing
