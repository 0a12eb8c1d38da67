// The plan that turns the records a provider holds for a name into the wanted set (alidns,
// dnspod): which records are kept, reused, created and deleted, and with which TTL.
#include "providers/record_set.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ddnswatch::providers {
namespace {

using Kind = RecordChange::Kind;

struct PlanCase {
  const char* what;
  std::vector<HeldRecord> held;
  std::vector<std::string> wanted;
  std::optional<int> ttl;
  std::vector<RecordChange> changes;
  uint32_t new_ttl;
};

bool same(const RecordChange& a, const RecordChange& b) {
  return a.kind == b.kind && a.id == b.id && a.value == b.value && a.ttl == b.ttl;
}

std::string text(const RecordChange& c) {
  const char* kind = c.kind == Kind::kUpdate   ? "update"
                     : c.kind == Kind::kCreate ? "create"
                                               : "delete";
  return std::string(kind) + " " + c.id + " " + c.value + " " + std::to_string(c.ttl);
}

TEST(RecordSetPlanTest, TouchesOnlyWhatDiffers) {
  const std::vector<PlanCase> cases = {
      {"nothing held: create with the default TTL",
       {},
       {"192.0.2.1"},
       std::nullopt,
       {{Kind::kCreate, "", "192.0.2.1", 600}},
       600},
      {"nothing held, a TTL wanted",
       {},
       {"192.0.2.1"},
       60,
       {{Kind::kCreate, "", "192.0.2.1", 60}},
       60},
      {"in sync", {{"1", "192.0.2.1", 300}}, {"192.0.2.1"}, std::nullopt, {}, 300},
      {"in sync with the wanted TTL", {{"1", "192.0.2.1", 300}}, {"192.0.2.1"}, 300, {}, 300},
      {"only the TTL differs",
       {{"1", "192.0.2.1", 300}},
       {"192.0.2.1"},
       120,
       {{Kind::kUpdate, "1", "192.0.2.1", 120}},
       120},
      {"a new address reuses the record and keeps its TTL",
       {{"1", "192.0.2.1", 300}},
       {"192.0.2.9"},
       std::nullopt,
       {{Kind::kUpdate, "1", "192.0.2.9", 300}},
       300},
      {"one more address: keep, create with the held TTL",
       {{"1", "192.0.2.1", 300}},
       {"192.0.2.1", "192.0.2.2"},
       std::nullopt,
       {{Kind::kCreate, "", "192.0.2.2", 300}},
       300},
      {"one address fewer: keep, delete",
       {{"1", "192.0.2.1", 300}, {"2", "192.0.2.2", 300}},
       {"192.0.2.2"},
       std::nullopt,
       {{Kind::kDelete, "1", "", 0}},
       300},
      {"two replaced, one dropped: updates first, delete last",
       {{"1", "192.0.2.1", 60}, {"2", "192.0.2.2", 70}, {"3", "192.0.2.3", 80}},
       {"198.51.100.1", "198.51.100.2"},
       std::nullopt,
       {{Kind::kUpdate, "1", "198.51.100.1", 60},
        {Kind::kUpdate, "2", "198.51.100.2", 70},
        {Kind::kDelete, "3", "", 0}},
       60},
      {"a duplicate of a wanted address is an extra",
       {{"1", "192.0.2.1", 300}, {"2", "192.0.2.1", 300}},
       {"192.0.2.1"},
       std::nullopt,
       {{Kind::kDelete, "2", "", 0}},
       300},
      {"a value that is no address is reused",
       {{"1", "", 300}, {"2", "192.0.2.1", 300}},
       {"192.0.2.1", "192.0.2.2"},
       std::nullopt,
       {{Kind::kUpdate, "1", "192.0.2.2", 300}},
       300},
      {"a wanted TTL applies to kept, reused and new records",
       {{"1", "192.0.2.1", 300}, {"2", "192.0.2.7", 300}},
       {"192.0.2.1", "192.0.2.2", "192.0.2.3"},
       30,
       {{Kind::kUpdate, "1", "192.0.2.1", 30},
        {Kind::kUpdate, "2", "192.0.2.2", 30},
        {Kind::kCreate, "", "192.0.2.3", 30}},
       30},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    RecordSetPlan plan = plan_record_set(c.held, c.wanted, c.ttl, 600);
    EXPECT_EQ(plan.ttl, c.new_ttl);
    ASSERT_EQ(plan.changes.size(), c.changes.size());
    for (size_t i = 0; i < c.changes.size(); ++i) {
      EXPECT_TRUE(same(plan.changes[i], c.changes[i]))
          << "change " << i << ": " << text(plan.changes[i]) << ", wanted " << text(c.changes[i]);
    }
  }
}

TEST(RecordSetPlanTest, ReportsWhatWasHeld) {
  RecordSetPlan plan = plan_record_set({{"1", "192.0.2.2", std::nullopt},
                                        {"2", "192.0.2.1", 90},
                                        {"3", "192.0.2.2", 90},
                                        {"4", "", 5}},
                                       {"192.0.2.1"}, std::nullopt, 600);
  EXPECT_EQ(plan.before, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(plan.held_ttl, 90u);
}

}  // namespace
}  // namespace ddnswatch::providers
