// The monitor's judgement, as pure functions of their inputs (table-tested): the verdict on
// one resolver's answer against the expected answer and the name's history, the figures of a
// whole name (answer groups, split-brain, propagation ratio, ETA), lag, when to look again,
// and which changes are events worth telling someone about.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "resolvers/dns_types.h"

namespace ddnswatch::monitor {

enum class Verdict { kMatch, kStale, kForeign, kEmpty, kNxDomain, kError };
inline constexpr Verdict kAllVerdicts[] = {Verdict::kMatch, Verdict::kStale,    Verdict::kForeign,
                                           Verdict::kEmpty, Verdict::kNxDomain, Verdict::kError};
const char* to_string(Verdict verdict);

/// Addresses in canonical text form (as inet_ntop prints them); the empty set means "no
/// address": NXDOMAIN or no record of the type.
using AddressSet = std::set<std::string>;
/// "192.0.2.1,192.0.2.2", or "-" for the empty set.
std::string to_string(const AddressSet& addresses);
/// The first `limit` addresses, then how many there are in all ("192.0.2.1,192.0.2.2,... (4093
/// addresses)"): what event details and log lines carry, as one answer can hold thousands.
std::string to_short_string(const AddressSet& addresses, size_t limit = 8);

/// What the name should resolve to now, and what it resolved to before.
struct Expectation {
  AddressSet current;
  std::vector<AddressSet> history;  // earlier expected sets, newest first
  WallTime changed_at{};            // when `current` became the expected answer
  bool known = false;  // false until the source (config, authoritative servers) has spoken
};

/// One resolver's answer in one sweep.
struct Observation {
  resolvers::Outcome outcome = resolvers::Outcome::kNetwork;
  AddressSet addresses;
  uint32_t ttl = 0;  // the smallest TTL of the address records (0 when none)
  WallTime at{};     // when the answer arrived
};

/// match: exactly the expected set. stale: only addresses the name has been expected to hold
/// (now or before) but not the expected set, e.g. an old cached answer. foreign: at least one
/// address the name was never expected to hold. empty / nxdomain: no address, while one is
/// expected (stale instead when "no address" is itself in the history). error: no usable
/// answer (servfail, refused, timeout, network, malformed).
Verdict classify(const Observation& observation, const Expectation& expectation);

/// One resolver's line in a name's report.
struct Row {
  std::string resolver;
  Verdict verdict = Verdict::kError;
  Observation observation;
  /// Time from the expected change to this resolver's first match; while it does not match
  /// yet, the time elapsed so far. Unset while the expectation is unknown.
  std::optional<Duration> lag;
  std::chrono::microseconds latency{0};  // the query's round trip, for reports
};

struct NameSummary {
  int answer_groups = 0;  // distinct answers (address sets, NXDOMAIN) among answering resolvers
  bool split_brain = false;
  double propagation_ratio = 0;  // matching / answering resolvers (0 when none answered)
  Duration eta{0};  // until the last stale answer's TTL runs out (0 when none is stale)
  /// When the last stale answer's TTL runs out, past or not; unset when none is stale.
  std::optional<WallTime> stale_until;
  bool converged = false;  // every resolver answered and matched
  /// No resolver still gives an old answer (stale, or no address while one is expected) and at
  /// least one matches: the change has reached every resolver it can reach by waiting.
  /// Resolvers that fail, or answer a foreign address, do not hold it back: their states have
  /// events and alerts of their own (resolver_foreign, split-brain, the query outcomes).
  bool propagated = false;
  int matching = 0;
  int answering = 0;
};

/// Split-brain: some resolver answers a foreign address, or the answering resolvers disagree
/// once stale caches are set aside (e.g. some say NXDOMAIN while others match).
NameSummary summarize(const std::vector<Row>& rows, WallTime now);

/// The lag to report for a resolver: `first_match` (its first match since `changed_at`) if
/// there was one, else the time elapsed since the change.
Duration lag(WallTime changed_at, std::optional<WallTime> first_match, WallTime now);

/// The longest time after a change during which a name is checked at the fast interval.
inline constexpr Duration kFastWindow = std::chrono::hours(1);

/// The delay until the next check of a name: `fast_interval` while it has not converged after
/// its expected answer changed, as long as stale answers are still due to expire (or their
/// TTL ran out less than one `interval` ago: a cache may serve the old answer with TTL 0 for
/// a moment, and its flip is then seen at once) or the change is less than one `interval` old
/// (and at most kFastWindow after the change); `interval` otherwise.
Duration next_check(const NameSummary& summary, WallTime changed_at, WallTime now,
                    Duration interval, Duration fast_interval);

/// Events are edge-triggered: each names a change, never a state that merely persists.
enum class EventKind {
  kResolverForeign,
  kResolverStale,
  kResolverRecovered,  // a resolver matches again after answering something else
  kResolverError,      // a resolver gives no usable answer (timeout, network, SERVFAIL, ...)
  kSplitBrainBegan,
  kSplitBrainEnded,
  kPropagationComplete,
  kExpectedChanged,
};
const char* to_string(EventKind kind);

struct Event {
  EventKind kind;
  std::string resolver;  // for the resolver events
  std::string detail;    // e.g. the answer
};

struct NameState {
  std::vector<Row> rows;
  NameSummary summary;
  /// The expected answer changed and has not propagated since: the next report with
  /// `summary.propagated` is "propagation complete".
  bool change_pending = false;
};

/// What changed between two consecutive reports of one name. `before` is null on the first.
std::vector<Event> diff(const NameState* before, const NameState& after);

}  // namespace ddnswatch::monitor
