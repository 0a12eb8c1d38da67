// Drives the IP detector in a test: a real loop with the system clock, its HTTP client and DNS
// engine, and one detection at a time run until it reports.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "ipdetect/ip_detector.h"
#include "net/http_client.h"
#include "resolvers/dns_engine.h"
#include "support/loop_runner.h"

namespace ddnswatch::testing {

/// Test thread only; the loop runs inside run().
class DetectorHarness {
 public:
  DetectorHarness() {
    loop_ = std::move(*EventLoop::create());
    http_ = std::move(*net::HttpClient::create(*loop_));
    engine_ = std::move(*resolvers::DnsEngine::create(*loop_, clock_));
    detector_ = std::make_unique<ipdetect::IpDetector>(*loop_, *http_, *engine_, clock_);
    detector_->set_jitter([] { return 1.0; });  // backoffs of exactly 30s, 1m, ...
  }
  ~DetectorHarness() {
    detector_.reset();
    engine_.reset();
    http_.reset();
  }
  DetectorHarness(const DetectorHarness&) = delete;
  DetectorHarness& operator=(const DetectorHarness&) = delete;

  void configure(const config::DetectConfig& c) { detector_->configure(c); }

  /// One detection; fails the test if it does not end within `limit`.
  ipdetect::Detection run(ipdetect::Family family,
                          std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    std::optional<ipdetect::Detection> out;
    detector_->detect(family, [&](ipdetect::Detection d) { out = std::move(d); });
    EXPECT_TRUE(run_loop_until(
        *loop_, [&] { return out.has_value(); }, limit))
        << "no detection within " << limit.count() << " ms";
    return out.value_or(ipdetect::Detection{});
  }

 private:
  SystemClock clock_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<resolvers::DnsEngine> engine_;
  std::unique_ptr<ipdetect::IpDetector> detector_;
};

}  // namespace ddnswatch::testing
