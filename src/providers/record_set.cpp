#include "providers/record_set.h"

#include <fmt/format.h>

#include <algorithm>

namespace ddnswatch::providers {

RecordSetPlan plan_record_set(const std::vector<HeldRecord>& held,
                              const std::vector<std::string>& wanted, std::optional<int> wanted_ttl,
                              uint32_t default_ttl) {
  RecordSetPlan plan;
  for (const auto& r : held) {
    if (!r.value.empty()) plan.before.push_back(r.value);
    if (!plan.held_ttl && r.ttl) plan.held_ttl = r.ttl;
  }
  std::sort(plan.before.begin(), plan.before.end());
  plan.before.erase(std::unique(plan.before.begin(), plan.before.end()), plan.before.end());
  // A plain flag and value rather than an optional: g++ 12 misreads optionals here.
  const bool ttl_is_wanted = wanted_ttl.has_value();
  const uint32_t ttl_wanted = ttl_is_wanted ? static_cast<uint32_t>(*wanted_ttl) : 0;
  plan.ttl = ttl_is_wanted ? ttl_wanted : plan.held_ttl.value_or(default_ttl);

  std::vector<std::string> kept;
  std::vector<const HeldRecord*> spare;
  for (const auto& r : held) {
    const bool is_wanted = std::binary_search(wanted.begin(), wanted.end(), r.value);
    if (!is_wanted || std::find(kept.begin(), kept.end(), r.value) != kept.end()) {
      spare.push_back(&r);
      continue;
    }
    kept.push_back(r.value);
    if (ttl_is_wanted && r.ttl != ttl_wanted) {
      plan.changes.push_back({RecordChange::Kind::kUpdate, r.id, r.value, ttl_wanted});
    }
  }
  std::vector<RecordChange> creates;
  size_t next_spare = 0;
  for (const auto& value : wanted) {
    if (std::find(kept.begin(), kept.end(), value) != kept.end()) continue;
    if (next_spare < spare.size()) {
      const HeldRecord& r = *spare[next_spare++];
      plan.changes.push_back({RecordChange::Kind::kUpdate, r.id, value,
                              ttl_is_wanted ? ttl_wanted : r.ttl.value_or(plan.ttl)});
    } else {
      creates.push_back({RecordChange::Kind::kCreate, "", value, plan.ttl});
    }
  }
  plan.changes.insert(plan.changes.end(), creates.begin(), creates.end());
  for (; next_spare < spare.size(); ++next_spare) {
    plan.changes.push_back({RecordChange::Kind::kDelete, spare[next_spare]->id, "", 0});
  }
  return plan;
}

Reconciliation plan_unchanged(const Desired& desired, const RecordSetPlan& plan) {
  return make_reconciliation(Outcome::kUnchanged,
                             unchanged_message(desired, RrsetState{plan.before, plan.held_ttl}),
                             plan.before);
}

Reconciliation plan_done(const Desired& desired, const std::vector<std::string>& wanted,
                         const RecordSetPlan& plan) {
  return make_reconciliation(Outcome::kUpdated,
                             updated_message(desired, wanted, plan.ttl, plan.before), plan.before);
}

std::string progress_note(size_t index, const RecordSetPlan& plan) {
  if (index == 0) return "";
  return fmt::format(" (after {} of {} changes were made)", index, plan.changes.size());
}

}  // namespace ddnswatch::providers
