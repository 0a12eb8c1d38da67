// What the fuzz targets of the HTTP providers share: the input as an HTTP answer's body read
// the way the providers read it, the record type and wanted addresses picked by the first
// input byte, and the check that a plan made from the records read turns them into exactly
// the wanted set.
#pragma once

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "net/http_client.h"
#include "providers/http_api.h"
#include "providers/record_set.h"

namespace ddnswatch::fuzz {

/// The record type and the addresses wanted, from the first input byte.
struct Wanted {
  config::RecordType type = config::RecordType::kA;
  std::vector<std::string> addresses;  // canonical, sorted
  std::optional<int> ttl;
};

inline Wanted wanted_for(uint8_t selector) {
  Wanted w;
  w.type = (selector & 1) != 0 ? config::RecordType::kAAAA : config::RecordType::kA;
  if (w.type == config::RecordType::kA) {
    w.addresses = {"192.0.2.1"};
    if ((selector & 2) != 0) w.addresses.push_back("192.0.2.2");
  } else {
    w.addresses = {"2001:db8::1"};
    if ((selector & 2) != 0) w.addresses.push_back("2001:db8::2");
  }
  if ((selector & 4) != 0) w.ttl = 300;
  return w;
}

/// The body as the providers parse it (providers::json_body).
inline std::optional<nlohmann::json> json_answer(const uint8_t* data, size_t size) {
  net::HttpResult answer;
  answer.status = 200;
  answer.headers = {{"content-type", "application/json"}};
  answer.body.assign(reinterpret_cast<const char*>(data), size);
  return providers::json_body(answer);
}

/// A provider target's input: the first byte picks what is wanted (and the name, where a
/// target reads bit 3), the rest is the answer's body. nullopt when there is no byte, or the
/// body is not JSON (the providers stop there).
struct ProviderInput {
  uint8_t selector = 0;
  Wanted wanted;
  nlohmann::json body;
};

inline std::optional<ProviderInput> provider_input(const uint8_t* data, size_t size) {
  if (size < 1) return std::nullopt;
  auto body = json_answer(data + 1, size - 1);
  if (!body) return std::nullopt;
  return ProviderInput{data[0], wanted_for(data[0]), std::move(*body)};
}

/// A value the parsers hand on: a canonical address of the type's family, or "" (not one).
inline void check_value(const std::string& value, config::RecordType type) {
  if (value.empty()) return;
  FUZZ_CHECK(canonical_address(value));
  FUZZ_CHECK(type == config::RecordType::kA ? config::is_ipv4_address(value)
                                            : config::is_ipv6_address(value));
}

/// The records by id after the changes, when the ids read are unique (with duplicate ids,
/// which no provider sends, "which record" has no answer). `Change` has kind, id, value.
template <typename Record, typename Change, typename ValueOf, typename Apply>
void check_plan(const std::vector<Record>& held, const std::vector<Change>& changes,
                const std::vector<std::string>& wanted, ValueOf value_of, Apply apply) {
  std::map<std::string, std::string> records;
  for (const auto& r : held) {
    if (!records.emplace(r.id, value_of(r)).second) return;
  }
  std::vector<std::string> created;
  for (const auto& c : changes) apply(records, created, c);
  std::multiset<std::string> after(created.begin(), created.end());
  for (const auto& [id, value] : records) after.insert(value);
  FUZZ_CHECK(after == std::multiset<std::string>(wanted.begin(), wanted.end()));
}

/// Records as Alibaba Cloud DNS and DNSPod list them: each read has an id and a canonical
/// address or none; the plan made from them leaves exactly the wanted addresses.
inline void check_record_set(const std::vector<providers::HeldRecord>& held, const Wanted& wanted,
                             uint32_t default_ttl) {
  using providers::RecordChange;
  for (const auto& r : held) {
    FUZZ_CHECK(!r.id.empty());
    check_value(r.value, wanted.type);
  }
  const auto plan = providers::plan_record_set(held, wanted.addresses, wanted.ttl, default_ttl);
  for (const auto& a : plan.before) FUZZ_CHECK(canonical_address(a));
  check_plan(
      held, plan.changes, wanted.addresses, [](const providers::HeldRecord& r) { return r.value; },
      [](auto& records, auto& created, const RecordChange& c) {
        switch (c.kind) {
          case RecordChange::Kind::kUpdate:
            FUZZ_CHECK(records.count(c.id) == 1);
            records[c.id] = c.value;
            break;
          case RecordChange::Kind::kCreate:
            created.push_back(c.value);
            break;
          case RecordChange::Kind::kDelete:
            FUZZ_CHECK(records.erase(c.id) == 1);
            break;
        }
      });
}

}  // namespace ddnswatch::fuzz
