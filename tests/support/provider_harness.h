// Drives one DNS provider synchronously in a test: a loop, an HTTP client and a clock that
// may be set wrong, a provider made by a factory, and reconcile() run until it reports (with
// checks that `done` runs once and never inside reconcile()).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/result.h"
#include "net/http_client.h"
#include "providers/provider.h"
#include "support/loop_runner.h"

namespace ddnswatch::testing {

/// The system clock, shifted: a machine whose clock is wrong.
class OffsetClock final : public Clock {
 public:
  explicit OffsetClock(Duration offset = Duration::zero()) : offset_(offset) {}
  SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now() + offset_; }

 private:
  Duration offset_;
};

inline std::string describe(const std::optional<providers::Reconciliation>& r) {
  if (!r) return "(no result)";
  return std::string(providers::to_string(r->outcome)) + ": " + r->message;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline providers::Desired desired(const std::string& name, std::vector<std::string> addresses,
                                  config::RecordType type = config::RecordType::kA,
                                  std::optional<int> ttl = std::nullopt) {
  providers::Desired d;
  d.name = name;
  d.type = type;
  std::sort(addresses.begin(), addresses.end());
  d.addresses = std::move(addresses);
  d.ttl = ttl;
  return d;
}

class ProviderHarness {
 public:
  using Factory =
      std::function<Result<std::unique_ptr<providers::Provider>>(providers::ProviderContext)>;

  explicit ProviderHarness(Duration clock_offset = Duration::zero())
      : loop_(std::move(*EventLoop::create())),
        http_(std::move(*net::HttpClient::create(*loop_))),
        clock_(clock_offset) {}
  ~ProviderHarness() { provider.reset(); }  // before the client and the loop it uses
  ProviderHarness(const ProviderHarness&) = delete;
  ProviderHarness& operator=(const ProviderHarness&) = delete;

  /// Makes the provider; false (with the error in `error`) when the config cannot work.
  bool make_with(const Factory& factory) {
    auto p = factory(providers::ProviderContext{*loop_, *http_, clock_});
    if (!p) {
      error = p.error().message;
      return false;
    }
    provider = std::move(*p);
    return true;
  }

  /// One reconcile, the loop run until it reports (bounded by `timeout`).
  std::optional<providers::Reconciliation> reconcile(
      const providers::Desired& desired,
      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::optional<providers::Reconciliation> result;
    bool inside = true;
    bool inline_call = false;
    int calls = 0;
    provider->reconcile(desired, [&](providers::Reconciliation r) {
      inline_call = inline_call || inside;
      ++calls;
      result = std::move(r);
    });
    inside = false;
    run_loop_until(
        *loop_, [&] { return result.has_value(); }, timeout);
    std::cout << "  reconcile " << desired.name << ": " << describe(result) << "\n";
    EXPECT_FALSE(inline_call) << "done ran inside reconcile()";
    EXPECT_LE(calls, 1);
    return result;
  }

  EventLoop& loop() { return *loop_; }
  const Clock& clock() const { return clock_; }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<net::HttpClient> http_;
  OffsetClock clock_;

 public:
  std::unique_ptr<providers::Provider> provider;
  std::string error;
};

}  // namespace ddnswatch::testing
