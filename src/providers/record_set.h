// For APIs that hold a name's addresses as separate records, each with its own id and TTL
// (Alibaba Cloud DNS, DNSPod): which calls turn the records held into the wanted set while
// touching as few records as possible. A pure decision, so that it can be tested by table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

}  // namespace ddnswatch::providers
