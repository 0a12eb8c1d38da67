// A token bucket for pacing queries to one resolver. Pure: the caller passes the time.
#pragma once

#include <algorithm>

#include "core/clock.h"

namespace ddnswatch::resolvers {

class TokenBucket {
 public:
  /// `rate` tokens per second, at most `burst` saved up; rate 0 means unlimited.
  TokenBucket(double rate, double burst, SteadyTime now)
      : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_), last_(now) {}

  bool unlimited() const { return rate_ <= 0; }

  /// Takes one token if there is one.
  bool try_take(SteadyTime now) {
    if (unlimited()) return true;
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  /// How long until a token is there (zero when one is).
  Duration wait_time(SteadyTime now) {
    if (unlimited()) return Duration::zero();
    refill(now);
    if (tokens_ >= 1.0) return Duration::zero();
    const double seconds = (1.0 - tokens_) / rate_;
    return std::max(Duration(1), Duration(static_cast<Duration::rep>(seconds * 1000.0 + 0.999)));
  }

 private:
  void refill(SteadyTime now) {
    if (now > last_) {
      tokens_ =
          std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
      last_ = now;
    }
  }

  double rate_;
  double burst_;
  double tokens_;
  SteadyTime last_;
};

}  // namespace ddnswatch::resolvers
