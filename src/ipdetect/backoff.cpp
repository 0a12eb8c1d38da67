#include "ipdetect/backoff.h"

#include <algorithm>
#include <cmath>

#include "core/backoff.h"
#include "core/duration.h"

namespace ddnswatch::ipdetect {

Duration backoff_delay(int failures, long http_status, std::optional<Duration> retry_after,
                       double jitter, const BackoffPolicy& policy) {
  Duration delay = exponential_backoff(failures, policy.base, policy.cap, jitter);
  if (retry_after) delay = std::max(delay, std::min(*retry_after, policy.max_retry_after));
  if (http_status == 429) delay = std::max(delay, policy.rate_limited_floor);
  return delay;
}

Duration SourceBackoff::failed(SteadyTime now, long http_status,
                               std::optional<Duration> retry_after, double jitter,
                               std::string reason) {
  ++failures_;
  const Duration rest = backoff_delay(failures_, http_status, retry_after, jitter);
  until_ = now + rest;
  reason_ = std::move(reason);
  return rest;
}

void SourceBackoff::succeeded() {
  failures_ = 0;
  until_ = SteadyTime{};
  reason_.clear();
}

Duration SourceBackoff::remaining(SteadyTime now) const {
  if (now >= until_) return Duration::zero();
  return std::chrono::duration_cast<Duration>(until_ - now);
}

std::string format_rest(Duration d) {
  return format_duration(std::chrono::ceil<std::chrono::seconds>(d));
}

}  // namespace ddnswatch::ipdetect
