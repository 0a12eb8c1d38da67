// The event loop with real libuv: timers fire in order, post() from other threads runs on
// the loop thread in order, stop() from any thread ends run().
#include "core/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <thread>
#include <vector>

namespace ddnswatch {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<EventLoop> make_loop() {
  auto loop = EventLoop::create();
  EXPECT_TRUE(loop.has_value());
  return std::move(*loop);
}

TEST(EventLoopTest, TimersFireInDeadlineOrderAndRepeat) {
  auto loop = make_loop();
  std::vector<int> order;
  auto late = loop->make_timer([&] { order.push_back(2); });
  auto early = loop->make_timer([&] { order.push_back(1); });
  int ticks = 0;
  std::unique_ptr<Timer> repeating;
  repeating = loop->make_timer([&] {
    if (++ticks == 3) {
      repeating->stop();
      loop->stop();
    }
  });
  late->start(milliseconds(20));
  early->start(milliseconds(5));
  repeating->start(milliseconds(25), milliseconds(5));
  loop->run();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(ticks, 3);
  EXPECT_FALSE(repeating->active());
}

TEST(EventLoopTest, PostFromOtherThreadsRunsOnTheLoopThreadInOrder) {
  auto loop = make_loop();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::vector<int>> seen(kThreads);
  std::atomic<int> done{0};
  std::atomic<bool> all_on_loop{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        loop->post([&, t, i] {
          if (!loop->on_loop_thread()) all_on_loop = false;
          seen[t].push_back(i);
          if (++done == kThreads * kPerThread) loop->stop();
        });
      }
    });
  }
  loop->run();
  for (auto& th : threads) th.join();
  EXPECT_TRUE(all_on_loop);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), static_cast<size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) EXPECT_EQ(seen[t][i], i);
  }
}

TEST(EventLoopTest, StopFromAnotherThreadEndsRun) {
  auto loop = make_loop();
  auto keepalive = loop->make_timer([] {});
  keepalive->start(milliseconds(1000), milliseconds(1000));
  std::thread stopper([&] { loop->stop(); });
  loop->run();  // returns although a repeating timer is armed
  stopper.join();
  EXPECT_FALSE(loop->on_loop_thread());
}

TEST(EventLoopTest, AnExceptionInACallbackDoesNotEndTheLoop) {
  auto loop = make_loop();
  bool after = false;
  loop->post([] { throw std::runtime_error("boom"); });
  loop->post([&] {
    after = true;
    loop->stop();
  });
  loop->run();
  EXPECT_TRUE(after);
}

// Windows has no SIGUSR1, and libuv does not see raise() there: the daemon takes the
// console's events instead (app/daemon.cpp).
#ifndef _WIN32
TEST(EventLoopTest, SignalsAreDeliveredOnTheLoop) {
  auto loop = make_loop();
  bool got = false;
  ASSERT_TRUE(loop->on_signal(SIGUSR1, [&] {
    got = true;
    loop->stop();
  }));
  loop->post([] { std::raise(SIGUSR1); });
  loop->run();
  EXPECT_TRUE(got);
}
#endif

}  // namespace
}  // namespace ddnswatch
