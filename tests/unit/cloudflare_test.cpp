// The pure part of the Cloudflare provider: which requests turn the records Cloudflare holds
// for a name into the wanted set. Each case is what a user would see happen to the records.
#include "providers/cloudflare.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ddnswatch::providers {
namespace {

using Kind = CloudflareChange::Kind;

CloudflareRecord held(std::string id, std::string content, int64_t ttl = 1, bool proxied = false) {
  return CloudflareRecord{std::move(id), std::move(content), ttl, proxied};
}
CloudflareChange patch(std::string id, std::optional<std::string> content,
                       std::optional<int64_t> ttl = std::nullopt) {
  return CloudflareChange{Kind::kPatch, std::move(id), std::move(content), ttl, false};
}
CloudflareChange create(std::string content, int64_t ttl, bool proxied = false) {
  return CloudflareChange{Kind::kCreate, "", std::move(content), ttl, proxied};
}
CloudflareChange remove(std::string id) {
  return CloudflareChange{Kind::kDelete, std::move(id), {}, {}};
}

std::string describe(const std::vector<CloudflareChange>& changes) {
  std::string out;
  for (const auto& c : changes) {
    out += c.kind == Kind::kPatch ? "PATCH " : c.kind == Kind::kCreate ? "POST " : "DELETE ";
    out += c.id + " " + c.content.value_or("-") +
           " ttl=" + (c.ttl ? std::to_string(*c.ttl) : std::string("-")) +
           (c.proxied ? " proxied" : "") + "\n";
  }
  return out;
}

struct Case {
  const char* what;
  std::vector<CloudflareRecord> held;
  std::vector<std::string> wanted;
  std::optional<int> ttl;
  std::vector<CloudflareChange> changes;
};

TEST(CloudflarePlanTest, WritesOnlyTheDifference) {
  const std::vector<Case> cases = {
      {"nothing held: one creation with TTL automatic",
       {},
       {"192.0.2.1"},
       {},
       {create("192.0.2.1", 1)}},
      {"nothing held, the config's TTL", {}, {"192.0.2.1"}, 300, {create("192.0.2.1", 300)}},
      {"in sync", {held("a", "192.0.2.1", 120)}, {"192.0.2.1"}, {}, {}},
      {"in sync with the config's TTL", {held("a", "192.0.2.1", 300)}, {"192.0.2.1"}, 300, {}},
      {"a new address goes into the record, its TTL kept",
       {held("a", "192.0.2.1", 120)},
       {"192.0.2.9"},
       {},
       {patch("a", "192.0.2.9")}},
      {"a new address and the config's TTL in one PATCH",
       {held("a", "192.0.2.1", 120)},
       {"192.0.2.9"},
       300,
       {patch("a", "192.0.2.9", 300)}},
      {"only the TTL differs",
       {held("a", "192.0.2.1", 120)},
       {"192.0.2.1"},
       300,
       {patch("a", std::nullopt, 300)}},
      {"two wanted, one held: kept, and one created with the held TTL",
       {held("a", "192.0.2.1", 120)},
       {"192.0.2.1", "192.0.2.2"},
       {},
       {create("192.0.2.2", 120)}},
      {"two wanted, the held one stale: patched, then one created",
       {held("a", "192.0.2.7", 120)},
       {"192.0.2.1", "192.0.2.2"},
       {},
       {patch("a", "192.0.2.1"), create("192.0.2.2", 120)}},
      {"one wanted, two held: the matching one kept, the other deleted",
       {held("a", "192.0.2.7"), held("b", "192.0.2.1")},
       {"192.0.2.1"},
       {},
       {remove("a")}},
      {"one wanted, two stale: the first patched, the second deleted last",
       {held("a", "192.0.2.7"), held("b", "192.0.2.8")},
       {"192.0.2.1"},
       {},
       {patch("a", "192.0.2.1"), remove("b")}},
      {"a duplicate of a wanted address is an extra",
       {held("a", "192.0.2.1"), held("b", "192.0.2.1")},
       {"192.0.2.1"},
       {},
       {remove("b")}},
      {"content that is not an address is replaced",
       {held("a", "")},
       {"192.0.2.1"},
       {},
       {patch("a", "192.0.2.1")}},
      {"proxied: the TTL stays Cloudflare's",
       {held("a", "192.0.2.1", 1, true)},
       {"192.0.2.1"},
       300,
       {}},
      {"proxied: a new address, no TTL",
       {held("a", "192.0.2.1", 1, true)},
       {"192.0.2.9"},
       300,
       {patch("a", "192.0.2.9")}},
      {"proxied: an added record is proxied too, TTL automatic",
       {held("a", "192.0.2.1", 1, true)},
       {"192.0.2.1", "192.0.2.2"},
       300,
       {create("192.0.2.2", 1, true)}},
      {"IPv6",
       {held("a", "2001:db8::1", 600)},
       {"2001:db8::1", "2001:db8::2"},
       {},
       {create("2001:db8::2", 600)}},
  };
  for (const auto& c : cases) {
    auto changes = plan_cloudflare_changes(c.held, c.wanted, c.ttl);
    EXPECT_EQ(changes, c.changes) << c.what << "\ngot:\n"
                                  << describe(changes) << "wanted:\n"
                                  << describe(c.changes);
  }
}

TEST(CloudflareRecordsTest, ReadsOnlyTheRecordsOfTheNameAndType) {
  // The list answer's result as Cloudflare sends it; a filter the server ignored, an entry
  // without an id or with a TTL of the wrong type must not become a record we touch.
  const auto result = nlohmann::json::parse(R"([
    {"id": "a", "name": "Home.Example.com", "type": "A", "content": "192.0.2.1", "ttl": 120},
    {"id": "b", "name": "home.example.com", "type": "A", "content": "not an address",
     "proxied": true, "ttl": "300"},
    {"id": "c", "name": "home.example.com", "type": "AAAA", "content": "2001:db8::1"},
    {"id": "d", "name": "other.example.com", "type": "A", "content": "192.0.2.4"},
    {"name": "home.example.com", "type": "A", "content": "192.0.2.5"},
    "garbage"
  ])");
  const auto held = cloudflare_records(result, config::RecordType::kA, "home.example.com");
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0].id, "a");
  EXPECT_EQ(held[0].content, "192.0.2.1");
  EXPECT_EQ(held[0].ttl, 120);
  EXPECT_FALSE(held[0].proxied);
  EXPECT_EQ(held[1].id, "b");
  EXPECT_EQ(held[1].content, "");
  EXPECT_EQ(held[1].ttl, 1);
  EXPECT_TRUE(held[1].proxied);
  EXPECT_TRUE(
      cloudflare_records(nlohmann::json::object(), config::RecordType::kA, "home.example.com")
          .empty());
}

}  // namespace
}  // namespace ddnswatch::providers
