#include "monitor/analyzer.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace ddnswatch::monitor {

using resolvers::Outcome;

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kMatch:
      return "match";
    case Verdict::kStale:
      return "stale";
    case Verdict::kForeign:
      return "foreign";
    case Verdict::kEmpty:
      return "empty";
    case Verdict::kNxDomain:
      return "nxdomain";
    case Verdict::kError:
      return "error";
  }
  return "?";
}

std::string to_string(const AddressSet& addresses) {
  if (addresses.empty()) return "-";
  std::string text;
  for (const auto& a : addresses) {
    if (!text.empty()) text += ',';
    text += a;
  }
  return text;
}

std::string to_short_string(const AddressSet& addresses, size_t limit) {
  if (addresses.size() <= limit) return to_string(addresses);
  std::string text;
  for (auto it = addresses.begin(); it != addresses.end() && limit > 0; ++it, --limit) {
    text += *it;
    text += ',';
  }
  return fmt::format("{}... ({} addresses)", text, addresses.size());
}

const char* to_string(EventKind kind) {
  switch (kind) {
    case EventKind::kResolverForeign:
      return "resolver_foreign";
    case EventKind::kResolverStale:
      return "resolver_stale";
    case EventKind::kResolverRecovered:
      return "resolver_recovered";
    case EventKind::kResolverError:
      return "resolver_error";
    case EventKind::kSplitBrainBegan:
      return "split_brain_began";
    case EventKind::kSplitBrainEnded:
      return "split_brain_ended";
    case EventKind::kPropagationComplete:
      return "propagation_complete";
    case EventKind::kExpectedChanged:
      return "expected_changed";
  }
  return "?";
}

Verdict classify(const Observation& o, const Expectation& e) {
  const bool no_address = o.outcome == Outcome::kNxDomain || o.outcome == Outcome::kNoData ||
                          (o.outcome == Outcome::kNoError && o.addresses.empty());
  if (!no_address && o.outcome != Outcome::kNoError) return Verdict::kError;
  const AddressSet& seen = no_address ? AddressSet{} : o.addresses;
  if (seen == e.current) return Verdict::kMatch;
  const bool in_history = std::find(e.history.begin(), e.history.end(), seen) != e.history.end();
  if (no_address) {
    if (in_history) return Verdict::kStale;
    return o.outcome == Outcome::kNxDomain ? Verdict::kNxDomain : Verdict::kEmpty;
  }
  for (const std::string& address : seen) {
    const bool held = e.current.count(address) != 0 ||
                      std::any_of(e.history.begin(), e.history.end(),
                                  [&](const AddressSet& h) { return h.count(address) != 0; });
    if (!held) return Verdict::kForeign;
  }
  return Verdict::kStale;
}

NameSummary summarize(const std::vector<Row>& rows, WallTime now) {
  NameSummary s;
  std::set<std::string> groups;
  std::set<std::string> current_groups;  // answers other than stale ones
  WallTime latest_expiry = now;
  bool all_match = !rows.empty();
  bool old_answers = false;  // stale, empty or nxdomain: still waiting for the change
  for (const Row& r : rows) {
    if (r.verdict != Verdict::kMatch) all_match = false;
    if (r.verdict == Verdict::kStale || r.verdict == Verdict::kEmpty ||
        r.verdict == Verdict::kNxDomain) {
      old_answers = true;
    }
    if (r.verdict == Verdict::kError) continue;
    ++s.answering;
    if (r.verdict == Verdict::kMatch) ++s.matching;
    if (r.verdict == Verdict::kForeign) s.split_brain = true;
    // The answer as given, whatever the verdict: NXDOMAIN, or the address set ("-" if none).
    const std::string key = r.observation.outcome == Outcome::kNxDomain
                                ? std::string("NXDOMAIN")
                                : to_string(r.observation.addresses);
    groups.insert(key);
    if (r.verdict == Verdict::kStale) {
      const WallTime expiry = r.observation.at + std::chrono::seconds(r.observation.ttl);
      latest_expiry = std::max(latest_expiry, expiry);
      s.stale_until = std::max(s.stale_until.value_or(expiry), expiry);
    } else {
      current_groups.insert(key);
    }
  }
  if (current_groups.size() > 1) s.split_brain = true;
  s.answer_groups = static_cast<int>(groups.size());
  s.propagation_ratio =
      s.answering == 0 ? 0.0 : static_cast<double>(s.matching) / static_cast<double>(s.answering);
  s.eta = std::chrono::duration_cast<Duration>(latest_expiry - now);
  s.converged = all_match;
  s.propagated = s.matching > 0 && !old_answers;
  return s;
}

Duration lag(WallTime changed_at, std::optional<WallTime> first_match, WallTime now) {
  const WallTime end = first_match.value_or(now);
  if (end <= changed_at) return Duration::zero();
  return std::chrono::duration_cast<Duration>(end - changed_at);
}

Duration next_check(const NameSummary& summary, WallTime changed_at, WallTime now,
                    Duration interval, Duration fast_interval) {
  if (summary.converged || fast_interval >= interval) return interval;
  // A change long past (a resolver that never converges, a cache holding a day-long TTL)
  // does not keep the fast pace.
  if (now - changed_at > kFastWindow) return interval;
  if (summary.eta > Duration::zero() || now < changed_at + interval) return fast_interval;
  if (summary.stale_until && now < *summary.stale_until + interval) return fast_interval;
  return interval;
}

std::vector<Event> diff(const NameState* before, const NameState& after) {
  std::vector<Event> events;
  std::map<std::string, Verdict> previous;
  if (before != nullptr) {
    for (const Row& r : before->rows) previous.emplace(r.resolver, r.verdict);
  }
  for (const Row& r : after.rows) {
    auto it = previous.find(r.resolver);
    const bool changed = it == previous.end() || it->second != r.verdict;
    if (!changed) continue;
    const std::string answer = to_short_string(r.observation.addresses);
    if (r.verdict == Verdict::kForeign) {
      events.push_back({EventKind::kResolverForeign, r.resolver, answer});
    } else if (r.verdict == Verdict::kStale && it != previous.end()) {
      events.push_back({EventKind::kResolverStale, r.resolver, answer});
    } else if (r.verdict == Verdict::kMatch && it != previous.end()) {
      events.push_back({EventKind::kResolverRecovered, r.resolver, answer});
    } else if (r.verdict == Verdict::kError) {
      // Said once when it begins, so that the resolver_recovered that ends it has a cause.
      events.push_back(
          {EventKind::kResolverError, r.resolver, resolvers::to_string(r.observation.outcome)});
    }
  }
  const bool was_split = before != nullptr && before->summary.split_brain;
  if (after.summary.split_brain && !was_split) {
    events.push_back({EventKind::kSplitBrainBegan, "", ""});
  } else if (!after.summary.split_brain && was_split) {
    events.push_back({EventKind::kSplitBrainEnded, "", ""});
  }
  if (after.summary.propagated && after.change_pending) {
    events.push_back({EventKind::kPropagationComplete, "", ""});
  }
  return events;
}

}  // namespace ddnswatch::monitor
