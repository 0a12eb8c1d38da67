// For APIs that hold a name's addresses as separate records, each with its own id and TTL
// (Alibaba Cloud DNS, DNSPod): which calls turn the records held into the wanted set while
// touching as few records as possible. A pure decision, so that it can be tested by table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "providers/provider.h"

namespace ddnswatch::providers {

/// One record of the set as the provider lists it.
struct HeldRecord {
  std::string id;
  std::string value;  // canonical address text; "" when it is not an address of the type
  std::optional<uint32_t> ttl;
};

struct RecordChange {
  enum class Kind { kUpdate, kCreate, kDelete };
  Kind kind = Kind::kCreate;
  std::string id;     // kUpdate, kDelete
  std::string value;  // kUpdate, kCreate
  uint32_t ttl = 0;   // kUpdate, kCreate
};

struct RecordSetPlan {
  /// Updates first, then creates, then deletes: the name never holds fewer addresses than
  /// needed while the calls run one after the other. Empty: nothing to write.
  std::vector<RecordChange> changes;
  std::vector<std::string> before;   // the addresses held, canonical, sorted, unique
  std::optional<uint32_t> held_ttl;  // the first held record's TTL
  uint32_t ttl = 0;                  // the TTL new records get
};

/// Records whose address is wanted are kept (one per address; their TTL is changed only when
/// `wanted_ttl` is set and differs). Records left over are reused, in the order listed, for
/// the wanted addresses nobody holds (keeping their TTL unless one is wanted); the addresses
/// still missing then are created with the wanted TTL, else the first held record's, else
/// `default_ttl`; the records still left over are deleted. `wanted` is canonical, sorted,
/// non-empty.
RecordSetPlan plan_record_set(const std::vector<HeldRecord>& held,
                              const std::vector<std::string>& wanted, std::optional<int> wanted_ttl,
                              uint32_t default_ttl);

/// How a run of `plan` ends: unchanged when it has no changes, updated once all were made.
Reconciliation plan_unchanged(const Desired& desired, const RecordSetPlan& plan);
Reconciliation plan_done(const Desired& desired, const std::vector<std::string>& wanted,
                         const RecordSetPlan& plan);

/// "(after 2 of 3 changes were made)" for the change at `index` (0-based) of `plan`, to add to
/// what a failed call says; "" for the first change.
std::string progress_note(size_t index, const RecordSetPlan& plan);

}  // namespace ddnswatch::providers
