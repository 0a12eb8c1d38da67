// Runs an EventLoop in a test until a condition holds or a deadline passes.
#pragma once

#include <chrono>
#include <functional>

#include "core/event_loop.h"

namespace ddnswatch::testing {

/// Runs `loop` on this thread, checking `done` every 2 ms; returns whether it held before
/// `timeout`. The loop is left stopped either way.
inline bool run_loop_until(EventLoop& loop, const std::function<bool()>& done,
                           std::chrono::milliseconds timeout) {
  bool met = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto check = loop.make_timer([&] {
    if (done()) {
      met = true;
      loop.stop();
    } else if (std::chrono::steady_clock::now() > deadline) {
      loop.stop();
    }
  });
  check->start(std::chrono::milliseconds(1), std::chrono::milliseconds(2));
  loop.run();
  return met;
}

}  // namespace ddnswatch::testing
