// Per-source backoff: a network source that fails is left alone for a while, longer after
// each failure in a row (exponential, with jitter), so a broken or blocking echo service is not
// hammered while the other sources keep answering. A service that says "too many requests"
// (429, 403 with Retry-After) is believed, and a 429 rests the source for at least 5 minutes.
// Pure: time comes in as arguments.
#pragma once

#include <optional>
#include <string>

#include "core/clock.h"

namespace ddnswatch::ipdetect {

struct BackoffPolicy {
  Duration base = std::chrono::seconds(30);               // after the first failure
  Duration cap = std::chrono::hours(1);                   // the exponential part stops growing here
  Duration rate_limited_floor = std::chrono::minutes(5);  // after a 429
  Duration max_retry_after = std::chrono::hours(24);      // a larger Retry-After is cut here
};

/// How long a source rests after its `failures`-th failure in a row. `http_status` is 0 when
/// the failure was not an HTTP status; `jitter` (0.8 to 1.2, drawn by the caller) scales the
/// exponential part only: a Retry-After is honoured as given.
Duration backoff_delay(int failures, long http_status, std::optional<Duration> retry_after,
                       double jitter, const BackoffPolicy& policy = {});

/// One source's state. Loop thread only (it lives in the detector).
class SourceBackoff {
 public:
  /// Records a failure at `now` and returns the rest it starts.
  Duration failed(SteadyTime now, long http_status, std::optional<Duration> retry_after,
                  double jitter, std::string reason);
  void succeeded();
  /// How long the source still rests; zero when it may be asked.
  Duration remaining(SteadyTime now) const;
  int failures() const { return failures_; }
  /// The error that started the current rest.
  const std::string& reason() const { return reason_; }

 private:
  int failures_ = 0;
  SteadyTime until_{};
  std::string reason_;
};

/// "4m12s": a rest for people, in whole seconds, rounded up.
std::string format_rest(Duration d);

}  // namespace ddnswatch::ipdetect
