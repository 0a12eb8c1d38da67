// The updater's pure decisions, one record at a time: whether to reconcile the record with its
// provider now, and if not, when; and how an outcome changes the record's status (backoff with
// jitter, Retry-After, the latch on refusals). No I/O and no clock: `now` comes in, so the
// tables in tests/unit/decision_test.cpp drive it with a fake time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "providers/provider.h"

namespace ddnswatch::updater {

using Addresses = std::vector<std::string>;  // canonical text, sorted

struct Policy {
  Duration min_interval = std::chrono::seconds(30);   // between two attempts, whatever happens
  Duration cooldown = std::chrono::minutes(2);        // after a write, before the next write
  Duration max_interval = std::chrono::hours(1);      // re-read even when in sync (hand edits)
  Duration error_interval = std::chrono::minutes(1);  // first wait after a failure; doubles
  Duration max_backoff = std::chrono::minutes(30);
  Duration rate_limit_wait = std::chrono::minutes(5);  // a 429 without Retry-After
};

/// What the updater remembers of one record (persisted in the state file).
struct RecordStatus {
  std::optional<Addresses> held;  // what the provider held at the last successful reconcile
  std::optional<WallTime> last_attempt;
  std::optional<WallTime> last_success;  // updated or unchanged
  std::optional<WallTime> last_write;    // updated
  int failures = 0;                      // consecutive failed or rate-limited attempts
  std::optional<WallTime> not_before;    // backoff or Retry-After
  /// The provider refused (bad credentials, zone not served, a fatal DynDNS2 code): retrying
  /// cannot help, and hammering gets accounts blocked. Cleared by a config change.
  std::optional<std::string> latched;
  /// The provider answers for the name with its own addresses (Cloudflare's proxy), as the last
  /// successful reconcile said: DNS answers cannot show what the record holds.
  bool proxied = false;
};

struct Decision {
  bool reconcile = false;
  /// When to look again if not now; nullopt: only when something changes (a new address,
  /// a new config).
  std::optional<WallTime> next;
  std::string reason;  // for logs and /status
};

/// `desired` unset means no address is trusted: nothing is written (never blanked or deleted).
Decision decide(const RecordStatus& status, const std::optional<Addresses>& desired, WallTime now,
                const Policy& policy);

/// The status after an attempt that wanted `desired` ended with `result`. `jitter` (0.8–1.2)
/// spreads the backoff.
RecordStatus apply(RecordStatus status, const Addresses& desired,
                   const providers::Reconciliation& result, WallTime now, const Policy& policy,
                   double jitter);

}  // namespace ddnswatch::updater
