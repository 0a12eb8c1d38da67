#include "updater/decision.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/backoff.h"

namespace ddnswatch::updater {
namespace {

std::string seconds_text(Duration d) {
  return fmt::format("{} s", std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

}  // namespace

Decision decide(const RecordStatus& status, const std::optional<Addresses>& desired, WallTime now,
                const Policy& policy) {
  if (status.latched) {
    return {false, std::nullopt,
            "refused by the provider (" + *status.latched + "); waiting for a config change"};
  }
  if (!desired || desired->empty()) {
    return {false, std::nullopt, "no trusted address yet; the record is left as it is"};
  }
  WallTime due = WallTime::min();
  std::string why;
  if (status.not_before && *status.not_before > due) {
    due = *status.not_before;
    why = status.failures > 0 ? "backing off after a failure" : "the provider asked to wait";
  }
  if (status.last_attempt && *status.last_attempt + policy.min_interval > due) {
    due = *status.last_attempt + policy.min_interval;
    why = "minimum interval between attempts";
  }
  const bool differs = !status.held || *status.held != *desired;
  if (differs) {
    if (status.last_write && *status.last_write + policy.cooldown > due) {
      due = *status.last_write + policy.cooldown;
      why = "cooldown after the last update";
    }
    if (due <= now) {
      return {true, std::nullopt,
              status.held ? "the provider holds another address"
                          : "the provider's record is not known yet"};
    }
    return {false, due,
            why + fmt::format("; update in {}",
                              seconds_text(std::chrono::duration_cast<Duration>(due - now)))};
  }
  // In sync as far as we know: re-read now and then, in case someone edited it by hand.
  const WallTime verify =
      std::max(due, status.last_success ? *status.last_success + policy.max_interval : now);
  if (verify <= now) return {true, std::nullopt, "periodic check of the provider's record"};
  return {false, verify, "in sync"};
}

RecordStatus apply(RecordStatus status, const Addresses& desired,
                   const providers::Reconciliation& result, WallTime now, const Policy& policy,
                   double jitter) {
  using providers::Outcome;
  status.last_attempt = now;
  switch (result.outcome) {
    case Outcome::kUpdated:
      status.last_write = now;
      [[fallthrough]];
    case Outcome::kUnchanged:
      status.held = desired;
      status.proxied = result.proxied;
      status.last_success = now;
      status.failures = 0;
      status.not_before.reset();
      status.latched.reset();
      return status;
    case Outcome::kRejected:
      // Clock skew is fixed on this machine, not in the config: keep retrying, slowly.
      if (!result.clock_skew) {
        status.latched = result.message.empty() ? "rejected" : result.message;
        status.not_before.reset();
        return status;
      }
      [[fallthrough]];
    case Outcome::kFailed:
    case Outcome::kRateLimited: {
      ++status.failures;
      Duration wait =
          exponential_backoff(status.failures, policy.error_interval, policy.max_backoff, jitter);
      if (result.outcome == Outcome::kRateLimited) wait = std::max(wait, policy.rate_limit_wait);
      if (result.retry_after) wait = std::max(wait, *result.retry_after);
      status.not_before = now + wait;
      return status;
    }
  }
  return status;
}

}  // namespace ddnswatch::updater
