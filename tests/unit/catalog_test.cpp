// The resolver catalog and the directory built on it (resolvers/catalog.h, resolvers/directory.h):
// the built-in catalog compiled from config/resolvers/public.json is complete and consistent
// (30+ resolvers with labels and addresses, unique ids, sets that name only resolvers, the
// well-known public resolvers where they belong); parse_catalog rejects bad documents with the
// JSON pointer of the fault; merge replaces by id. ResolverDirectory::build turns a config into
// engine specs (custom resolvers as written, catalog ones with the config's pacing, timeout and
// tries), select() expands sets and literals, and the config's references to resolvers, sets,
// the catalog file and the bootstrap resolver are checked with JSON paths and "did you mean".
#include "resolvers/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/validate.h"
#include "resolvers/directory.h"
#include "support/temp_dir.h"

namespace ddnswatch::resolvers {
namespace {

using config::Diagnostic;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------------------------
// The built-in catalog.

TEST(CatalogTest, BuiltinHasAtLeastThirtyCompleteResolvers) {
  const Catalog& catalog = builtin_catalog();
  EXPECT_GE(catalog.resolvers.size(), 30u);
  for (const CatalogEntry& e : catalog.resolvers) {
    SCOPED_TRACE(e.id);
    EXPECT_THAT(e.id, Not(IsEmpty()));
    EXPECT_TRUE(config::is_identifier(e.id));
    EXPECT_THAT(e.name, Not(IsEmpty()));
    EXPECT_THAT(e.operator_name, Not(IsEmpty()));
    EXPECT_THAT(e.geo, Not(IsEmpty()));
    EXPECT_FALSE(e.ipv4.empty() && e.ipv6.empty());
    for (const std::string& a : e.ipv4) EXPECT_TRUE(config::is_ipv4_address(a)) << a;
    for (const std::string& a : e.ipv6) EXPECT_TRUE(config::is_ipv6_address(a)) << a;
    EXPECT_TRUE(config::is_ip_address(e.primary_address())) << e.primary_address();
  }
}

TEST(CatalogTest, BuiltinIdsAreUnique) {
  std::set<std::string> ids;
  for (const CatalogEntry& e : builtin_catalog().resolvers) {
    EXPECT_TRUE(ids.insert(e.id).second) << "duplicate id " << e.id;
  }
}

TEST(CatalogTest, BuiltinSetsNameOnlyResolvers) {
  const Catalog& catalog = builtin_catalog();
  EXPECT_FALSE(catalog.sets.empty());
  for (const auto& [name, members] : catalog.sets) {
    SCOPED_TRACE(name);
    EXPECT_THAT(members, Not(IsEmpty()));
    EXPECT_EQ(catalog.find(name), nullptr) << "set name is also a resolver id";
    EXPECT_NE(name, kAuthoritativeSet);
    std::set<std::string> seen;
    for (const std::string& m : members) {
      EXPECT_NE(catalog.find(m), nullptr) << "set member " << m << " is not a resolver id";
      EXPECT_TRUE(seen.insert(m).second) << "set member " << m << " listed twice";
    }
  }
}

struct KnownResolver {
  const char* id;
  const char* address;
  const char* operator_name;
};

TEST(CatalogTest, BuiltinHasTheWellKnownResolvers) {
  for (const KnownResolver& k : {KnownResolver{"google", "8.8.8.8", "Google"},
                                 KnownResolver{"cloudflare", "1.1.1.1", "Cloudflare"},
                                 KnownResolver{"quad9", "9.9.9.9", "Quad9"},
                                 KnownResolver{"alidns", "223.5.5.5", "Alibaba Cloud"}}) {
    SCOPED_TRACE(k.id);
    const CatalogEntry* e = builtin_catalog().find(k.id);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->primary_address(), k.address);
    EXPECT_THAT(e->ipv4, Contains(k.address));
    EXPECT_EQ(e->operator_name, k.operator_name);
  }
  EXPECT_EQ(builtin_catalog().find("no-such-resolver"), nullptr);
}

// ---------------------------------------------------------------------------------------------
// parse_catalog, load_catalog, merge.

struct CatalogErrorCase {
  std::string name;
  std::string json;
  std::string message;  // a part of the error message: the JSON pointer, at least
};

void PrintTo(const CatalogErrorCase& c, std::ostream* os) { *os << c.name; }

class CatalogErrorTest : public ::testing::TestWithParam<CatalogErrorCase> {};

TEST_P(CatalogErrorTest, NamesThePointer) {
  const CatalogErrorCase& c = GetParam();
  auto catalog = parse_catalog(c.json, "extra.json");
  ASSERT_FALSE(catalog) << "parsed: " << c.json;
  EXPECT_THAT(catalog.error().message, StartsWith("extra.json: "));
  EXPECT_THAT(catalog.error().message, HasSubstr(c.message));
}

INSTANTIATE_TEST_SUITE_P(
    CatalogTest, CatalogErrorTest,
    ::testing::Values(
        CatalogErrorCase{"NotJson", R"({"version": 1, "resolvers": [)", "not JSON"},
        CatalogErrorCase{"HostNameAsAddress",
                         R"({"version": 1, "resolvers": [{"id": "x", "ipv4": ["dns.example"]}]})",
                         "/resolvers/0/ipv4/0: \"dns.example\" is not an IPv4 address"},
        CatalogErrorCase{"Ipv6UnderIpv4",
                         R"({"version": 1, "resolvers": [{"id": "x", "ipv4": ["2001:db8::1"]}]})",
                         "/resolvers/0/ipv4/0: \"2001:db8::1\" is not an IPv4 address"},
        CatalogErrorCase{"Ipv4UnderIpv6",
                         R"({"version": 1, "resolvers": [{"id": "x", "ipv6": ["192.0.2.1"]}]})",
                         "/resolvers/0/ipv6/0: \"192.0.2.1\" is not an IPv6 address"},
        CatalogErrorCase{"NotAnObject", R"([1, 2])", "expected an object"},
        CatalogErrorCase{"VersionMissing", R"({"resolvers": []})", "/version: expected 1"},
        CatalogErrorCase{"VersionTwo", R"({"version": 2, "resolvers": []})",
                         "/version: expected 1"},
        CatalogErrorCase{"VersionAsString", R"({"version": "1", "resolvers": []})",
                         "/version: expected 1"},
        CatalogErrorCase{"ResolversMissing", R"({"version": 1})", "/resolvers: expected an array"},
        CatalogErrorCase{"ResolversNotAnArray", R"({"version": 1, "resolvers": {}})",
                         "/resolvers: expected an array"},
        CatalogErrorCase{"EntryNotAnObject", R"({"version": 1, "resolvers": ["google"]})",
                         "/resolvers/0: expected an object"},
        CatalogErrorCase{"EntryWithoutId",
                         R"({"version": 1, "resolvers": [
                              {"id": "a", "ipv4": ["192.0.2.1"]},
                              {"name": "No id", "ipv4": ["192.0.2.2"]}]})",
                         "/resolvers/1/id: missing"},
        CatalogErrorCase{"IdNotAString",
                         R"({"version": 1, "resolvers": [{"id": 7, "ipv4": ["192.0.2.1"]}]})",
                         "/resolvers/0/id: expected a string"},
        CatalogErrorCase{"EmptyId",
                         R"({"version": 1, "resolvers": [{"id": "", "ipv4": ["192.0.2.1"]}]})",
                         "/resolvers/0/id"},
        CatalogErrorCase{"DuplicateId",
                         R"({"version": 1, "resolvers": [
                              {"id": "a", "ipv4": ["192.0.2.1"]},
                              {"id": "b", "ipv4": ["192.0.2.2"]},
                              {"id": "a", "ipv6": ["2001:db8::1"]}]})",
                         "/resolvers/2/id: empty or duplicate id \"a\""},
        CatalogErrorCase{"NoAddress", R"({"version": 1, "resolvers": [{"id": "a"}]})",
                         "/resolvers/0: no ipv4 or ipv6 address"},
        CatalogErrorCase{"EmptyAddressLists",
                         R"({"version": 1, "resolvers": [{"id": "a", "ipv4": [], "ipv6": []}]})",
                         "/resolvers/0: no ipv4 or ipv6 address"},
        CatalogErrorCase{"Ipv4NotAnArray",
                         R"({"version": 1, "resolvers": [{"id": "a", "ipv4": "192.0.2.1"}]})",
                         "/resolvers/0/ipv4: expected an array"},
        CatalogErrorCase{
            "Ipv6MemberNotAString",
            R"({"version": 1, "resolvers": [{"id": "a", "ipv6": ["2001:db8::1", 5]}]})",
            "/resolvers/0/ipv6/1: expected a string"},
        CatalogErrorCase{"OperatorNotAString",
                         R"({"version": 1, "resolvers": [
                              {"id": "a", "operator": {}, "ipv4": ["192.0.2.1"]}]})",
                         "/resolvers/0/operator: expected a string"},
        CatalogErrorCase{"SetsNotAnObject", R"({"version": 1, "resolvers": [], "sets": ["a"]})",
                         "/sets: expected an object"},
        CatalogErrorCase{"SetNotAnArray",
                         R"({"version": 1, "resolvers": [], "sets": {"mine": "a"}})",
                         "/sets/mine: expected an array"},
        CatalogErrorCase{"SetMemberNotAString",
                         R"({"version": 1, "resolvers": [{"id": "a", "ipv4": ["192.0.2.1"]}],
                             "sets": {"mine": ["a", 2]}})",
                         "/sets/mine/1: expected a string"}),
    [](const ::testing::TestParamInfo<CatalogErrorCase>& param_info) {
      return param_info.param.name;
    });

TEST(CatalogTest, VersionErrorIsUnsupported) {
  auto catalog = parse_catalog(R"({"version": 2, "resolvers": []})", "x");
  ASSERT_FALSE(catalog);
  EXPECT_EQ(catalog.error().code, ErrorCode::kUnsupported);
}

TEST(CatalogTest, ParsesEntriesAndSets) {
  auto catalog = parse_catalog(R"({
    "version": 1,
    "resolvers": [
      {"id": "lab-a", "name": "Lab A", "operator": "Lab", "geo": "EU", "country": "DE",
       "ipv4": ["192.0.2.1", "192.0.2.2"], "ipv6": ["2001:db8::1"], "filtering": "none",
       "ecs": "no"},
      {"id": "lab-b", "ipv6": ["2001:db8::2"], "name": null}
    ],
    "sets": {"labs": ["lab-a", "lab-b"], "empty": []}
  })",
                               "t");
  ASSERT_TRUE(catalog) << catalog.error().message;
  ASSERT_THAT(catalog->resolvers, SizeIs(2));
  const CatalogEntry& a = catalog->resolvers[0];
  EXPECT_EQ(a.id, "lab-a");
  EXPECT_EQ(a.name, "Lab A");
  EXPECT_EQ(a.operator_name, "Lab");
  EXPECT_EQ(a.geo, "EU");
  EXPECT_EQ(a.country, "DE");
  EXPECT_EQ(a.filtering, "none");
  EXPECT_EQ(a.ecs, "no");
  EXPECT_THAT(a.ipv4, ElementsAre("192.0.2.1", "192.0.2.2"));
  EXPECT_EQ(a.primary_address(), "192.0.2.1");
  const CatalogEntry& b = catalog->resolvers[1];
  EXPECT_EQ(b.name, "lab-b");  // the id when no name is given
  EXPECT_THAT(b.operator_name, IsEmpty());
  EXPECT_EQ(b.primary_address(), "2001:db8::2");  // no IPv4: the first IPv6 address
  EXPECT_THAT(catalog->sets.at("labs"), ElementsAre("lab-a", "lab-b"));
  EXPECT_THAT(catalog->sets.at("empty"), IsEmpty());
  EXPECT_EQ(catalog->find("lab-b"), &catalog->resolvers[1]);
}

TEST(CatalogTest, MergeReplacesByIdAndAdds) {
  auto base = parse_catalog(R"({"version": 1, "resolvers": [
      {"id": "a", "name": "A", "ipv4": ["192.0.2.1"]},
      {"id": "b", "name": "B", "ipv4": ["192.0.2.2"]}],
    "sets": {"one": ["a"], "two": ["a", "b"]}})",
                            "base");
  auto extra = parse_catalog(R"({"version": 1, "resolvers": [
      {"id": "c", "name": "C", "ipv4": ["192.0.2.3"]},
      {"id": "b", "name": "B2", "ipv6": ["2001:db8::b"]}],
    "sets": {"two": ["c"], "three": ["b", "c"]}})",
                             "extra");
  ASSERT_TRUE(base && extra);
  base->merge(*extra);
  std::vector<std::string> ids;
  for (const CatalogEntry& e : base->resolvers) ids.push_back(e.id);
  EXPECT_THAT(ids, ElementsAre("a", "b", "c"));  // b replaced in place, c added at the end
  EXPECT_EQ(base->find("b")->name, "B2");
  EXPECT_THAT(base->find("b")->ipv4, IsEmpty());
  EXPECT_EQ(base->find("b")->primary_address(), "2001:db8::b");
  EXPECT_EQ(base->find("a")->name, "A");
  EXPECT_THAT(base->sets.at("one"), ElementsAre("a"));
  EXPECT_THAT(base->sets.at("two"), ElementsAre("c"));
  EXPECT_THAT(base->sets.at("three"), ElementsAre("b", "c"));
}

TEST(CatalogTest, LoadCatalogNamesTheFile) {
  testing::TempDir dir;
  const auto good = dir.write(
      "good.json", R"({"version": 1, "resolvers": [{"id": "x", "ipv4": ["192.0.2.9"]}]})");
  auto loaded = load_catalog(good.string());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->find("x")->primary_address(), "192.0.2.9");

  const auto bad = dir.write("bad.json", R"({"version": 1, "resolvers": [{"id": "x"}]})");
  auto broken = load_catalog(bad.string());
  ASSERT_FALSE(broken);
  EXPECT_THAT(broken.error().message, HasSubstr(bad.string() + ": /resolvers/0"));

  EXPECT_FALSE(load_catalog((dir.path() / "missing.json").string()));
}

// ---------------------------------------------------------------------------------------------
// ResolverDirectory.

config::Config base_config() {
  config::Config c;
  c.resolvers.bootstrap = "system";  // not looked up by build()
  return c;
}

config::CustomResolver custom(std::string id, std::string address) {
  config::CustomResolver r;
  r.id = std::move(id);
  r.address = std::move(address);
  return r;
}

config::WatchConfig watch(std::string name, std::vector<std::string> resolvers) {
  config::WatchConfig w;
  w.name = std::move(name);
  w.resolvers = std::move(resolvers);
  return w;
}

std::string describe(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += d.to_string() + "\n";
  return out;
}

std::vector<std::string> ids_of(const ResolverDirectory::Selection& selection) {
  std::vector<std::string> ids;
  for (const NamedResolver& r : selection.resolvers) ids.push_back(r.spec.id);
  return ids;
}

auto diagnostic(const std::string& path, const std::string& message_part) {
  return AllOf(Field(&Diagnostic::path, path),
               Field(&Diagnostic::message, HasSubstr(message_part)));
}

TEST(ResolverDirectoryTest, CatalogResolversGetTheConfigsPacing) {
  config::Config c = base_config();
  c.resolvers.rate_limit = 7;
  c.resolvers.timeout = std::chrono::milliseconds(1500);
  c.resolvers.tries = 3;
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());
  for (const CatalogEntry& e : builtin_catalog().resolvers) {
    SCOPED_TRACE(e.id);
    const NamedResolver* r = dir->find(e.id);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->spec.id, e.id);
    EXPECT_EQ(r->spec.address, e.primary_address());
    EXPECT_EQ(r->spec.port, 53);
    EXPECT_EQ(r->spec.transport, Transport::kUdp);
    EXPECT_TRUE(r->spec.recursion);
    EXPECT_DOUBLE_EQ(r->spec.rate_limit, 7);
    EXPECT_EQ(r->spec.timeout, std::chrono::milliseconds(1500));
    EXPECT_EQ(r->spec.tries, 3);
    EXPECT_EQ(r->name, e.name);
    EXPECT_EQ(r->operator_name, e.operator_name);
    EXPECT_EQ(r->geo, e.geo);
  }
  const NamedResolver* google = dir->find("google");
  ASSERT_NE(google, nullptr);
  EXPECT_EQ(google->spec.endpoint(), "8.8.8.8:53");
  EXPECT_EQ(dir->find("no-such"), nullptr);
}

TEST(ResolverDirectoryTest, CustomResolversAsConfigured) {
  config::Config c = base_config();
  c.resolvers.timeout = std::chrono::milliseconds(700);
  c.resolvers.tries = 4;
  config::CustomResolver lab = custom("lab", "127.0.0.1:5353");
  lab.name = "Lab server";
  lab.operator_name = "Us";
  lab.geo = "XX";
  lab.transport = "tcp";
  lab.recursion = false;
  lab.rate_limit = 5;
  lab.max_in_flight = 7;
  config::CustomResolver v6 = custom("lab6", "[::1]:5300");
  v6.transport = "udp-only";
  config::CustomResolver plain = custom("plain", "192.0.2.53");
  c.resolvers.custom = {lab, v6, plain};
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());

  const NamedResolver* r = dir->find("lab");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->spec.id, "lab");
  EXPECT_EQ(r->spec.address, "127.0.0.1");
  EXPECT_EQ(r->spec.port, 5353);
  EXPECT_EQ(r->spec.transport, Transport::kTcp);
  EXPECT_FALSE(r->spec.recursion);
  EXPECT_DOUBLE_EQ(r->spec.rate_limit, 5);
  EXPECT_EQ(r->spec.max_in_flight, 7);
  EXPECT_EQ(r->spec.timeout, std::chrono::milliseconds(700));
  EXPECT_EQ(r->spec.tries, 4);
  EXPECT_EQ(r->name, "Lab server");
  EXPECT_EQ(r->operator_name, "Us");
  EXPECT_EQ(r->geo, "XX");

  r = dir->find("lab6");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->spec.address, "::1");
  EXPECT_EQ(r->spec.port, 5300);
  EXPECT_EQ(r->spec.transport, Transport::kUdpOnly);
  EXPECT_TRUE(r->spec.recursion);
  EXPECT_DOUBLE_EQ(r->spec.rate_limit, 0);  // the user's own server: unlimited by default
  EXPECT_EQ(r->spec.max_in_flight, 100);
  EXPECT_EQ(r->name, "lab6");  // the id when no name is given
  EXPECT_EQ(r->spec.endpoint(), "[::1]:5300");

  r = dir->find("plain");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->spec.address, "192.0.2.53");
  EXPECT_EQ(r->spec.port, 53);
  EXPECT_EQ(r->spec.transport, Transport::kUdp);
}

TEST(ResolverDirectoryTest, CustomResolverReplacesCatalogEntryOfTheSameId) {
  config::Config c = base_config();
  c.resolvers.custom = {custom("google", "127.0.0.1:5301")};
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());
  EXPECT_EQ(dir->find("google")->spec.endpoint(), "127.0.0.1:5301");
}

TEST(ResolverDirectoryTest, SelectExpandsSetsInOrderEachOnce) {
  config::Config c = base_config();
  c.resolvers.custom = {custom("lab", "127.0.0.1:5353")};
  c.resolvers.sets = {{"inner", {"lab", "google"}},
                      {"outer", {"inner", "cloudflare", "google", "inner"}}};
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());
  auto selection = dir->select({"outer", "quad9", "lab", "cloudflare"}, false);
  ASSERT_TRUE(selection) << selection.error().message;
  EXPECT_THAT(ids_of(*selection), ElementsAre("lab", "google", "cloudflare", "quad9"));
  EXPECT_FALSE(selection->authoritative);
  EXPECT_EQ(selection->resolvers[0].spec.port, 5353);
  EXPECT_EQ(selection->resolvers[1].operator_name, "Google");
}

TEST(ResolverDirectoryTest, SelectBuiltinSetInCatalogOrder) {
  auto dir = ResolverDirectory::build(base_config());
  ASSERT_TRUE(dir) << describe(dir.error());
  for (const auto& [name, members] : builtin_catalog().sets) {
    auto selection = dir->select({name}, false);
    ASSERT_TRUE(selection) << name << ": " << selection.error().message;
    EXPECT_THAT(ids_of(*selection), ElementsAreArray(members)) << name;
  }
  auto china = dir->select({"china"}, false);
  ASSERT_TRUE(china);
  EXPECT_THAT(ids_of(*china), Contains("alidns"));
}

TEST(ResolverDirectoryTest, SelectAuthoritative) {
  config::Config c = base_config();
  c.resolvers.sets = {{"mixed", {"authoritative", "google"}}};
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());
  auto only = dir->select({"authoritative"}, false);
  ASSERT_TRUE(only);
  EXPECT_TRUE(only->authoritative);
  EXPECT_THAT(only->resolvers, IsEmpty());
  auto mixed = dir->select({"cloudflare", "mixed"}, false);
  ASSERT_TRUE(mixed);
  EXPECT_TRUE(mixed->authoritative);
  EXPECT_THAT(ids_of(*mixed), ElementsAre("cloudflare", "google"));
  auto none = dir->select({}, false);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->authoritative);
  EXPECT_THAT(none->resolvers, IsEmpty());
}

struct LiteralCase {
  std::string text;
  std::string address;
  uint16_t port;
};

TEST(ResolverDirectoryTest, SelectLiteralsOnlyWhenAllowed) {
  config::Config c = base_config();
  c.resolvers.timeout = std::chrono::milliseconds(900);
  c.resolvers.tries = 5;
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());
  for (const LiteralCase& l :
       {LiteralCase{"127.0.0.1:5353", "127.0.0.1", 5353}, LiteralCase{"[::1]:53", "::1", 53},
        LiteralCase{"192.0.2.1", "192.0.2.1", 53},
        LiteralCase{"2001:db8::53", "2001:db8::53", 53}}) {
    SCOPED_TRACE(l.text);
    auto selection = dir->select({l.text}, true);
    ASSERT_TRUE(selection) << selection.error().message;
    ASSERT_THAT(selection->resolvers, SizeIs(1));
    const ResolverSpec& spec = selection->resolvers[0].spec;
    EXPECT_EQ(spec.id, l.text);
    EXPECT_EQ(spec.address, l.address);
    EXPECT_EQ(spec.port, l.port);
    EXPECT_TRUE(spec.recursion);
    EXPECT_EQ(spec.timeout, std::chrono::milliseconds(900));
    EXPECT_EQ(spec.tries, 5);
    EXPECT_FALSE(dir->select({l.text}, false)) << "accepted without allow_literals";
  }
  auto both = dir->select({"192.0.2.1", "google", "192.0.2.1"}, true);
  ASSERT_TRUE(both);
  EXPECT_THAT(ids_of(*both), ElementsAre("192.0.2.1", "google"));
  for (const char* bad : {"example.com", "300.1.2.3", "127.0.0.1:99999", "[::1", "1.2.3.4:"}) {
    auto selection = dir->select({bad}, true);
    ASSERT_FALSE(selection) << bad;
    EXPECT_THAT(selection.error().message, HasSubstr("or an IP address")) << bad;
  }
}

TEST(ResolverDirectoryTest, UnknownNameSuggestsTheNearestOne) {
  auto dir = ResolverDirectory::build(base_config());
  ASSERT_TRUE(dir) << describe(dir.error());
  auto typo = dir->select({"google", "googel"}, false);
  ASSERT_FALSE(typo);
  EXPECT_THAT(typo.error().message, HasSubstr("unknown resolver or set \"googel\""));
  EXPECT_THAT(typo.error().message, HasSubstr("did you mean \"google\""));
  auto set_typo = dir->select({"chian"}, false);
  ASSERT_FALSE(set_typo);
  EXPECT_THAT(set_typo.error().message, HasSubstr("did you mean \"china\""));
  auto far = dir->select({"qwertyuiopasdf"}, false);
  ASSERT_FALSE(far);
  EXPECT_THAT(far.error().message, HasSubstr("unknown resolver or set \"qwertyuiopasdf\""));
  EXPECT_THAT(far.error().message, Not(HasSubstr("did you mean")));
}

struct DiagnosticCase {
  std::string name;
  std::function<void(config::Config&)> change;
  std::string path;
  std::string message;
};

void PrintTo(const DiagnosticCase& c, std::ostream* os) { *os << c.name; }

class ResolverDirectoryDiagnosticTest : public ::testing::TestWithParam<DiagnosticCase> {};

TEST_P(ResolverDirectoryDiagnosticTest, Reported) {
  const DiagnosticCase& c = GetParam();
  config::Config cfg = base_config();
  c.change(cfg);
  auto dir = ResolverDirectory::build(cfg);
  ASSERT_FALSE(dir) << "built without diagnostics";
  EXPECT_THAT(dir.error(), Contains(diagnostic(c.path, c.message))) << describe(dir.error());
}

INSTANTIATE_TEST_SUITE_P(
    ResolverDirectoryTest, ResolverDirectoryDiagnosticTest,
    ::testing::Values(
        DiagnosticCase{"UnknownSetMember",
                       [](config::Config& c) {
                         c.resolvers.sets = {{"mine", {"google", "nosuch-resolver"}}};
                       },
                       "/resolvers/sets/mine/1", "unknown resolver or set \"nosuch-resolver\""},
        DiagnosticCase{"SetMemberTypo",
                       [](config::Config& c) {
                         c.resolvers.sets = {{"mine", {"cloudfare"}}};
                       },
                       "/resolvers/sets/mine/0", "did you mean \"cloudflare\""},
        DiagnosticCase{"SetMemberLiteralAddress",
                       [](config::Config& c) {
                         c.resolvers.sets = {{"mine", {"google", "192.0.2.1"}}};
                       },
                       "/resolvers/sets/mine/1", "unknown resolver or set \"192.0.2.1\""},
        DiagnosticCase{"UnknownWatchResolver",
                       [](config::Config& c) {
                         c.watch = {watch("home.example.com", {"google"}),
                                    watch("www.example.com", {"cloudflare", "googel"})};
                       },
                       "/watch/1/resolvers/1", "did you mean \"google\""},
        DiagnosticCase{"CycleBetweenTwoSets",
                       [](config::Config& c) {
                         c.resolvers.sets = {{"left", {"google", "right"}}, {"right", {"left"}}};
                       },
                       "/resolvers/sets/left", "cycle"},
        DiagnosticCase{"CycleThroughThreeSets",
                       [](config::Config& c) {
                         c.resolvers.sets = {{"a", {"b"}}, {"b", {"quad9", "c"}}, {"c", {"a"}}};
                       },
                       "/resolvers/sets/a", "cycle"},
        DiagnosticCase{
            "UnreadableCatalogFile",
            [](config::Config& c) { c.resolvers.catalog = "/nonexistent/ddnswatch/catalog.json"; },
            "/resolvers/catalog", "/nonexistent/ddnswatch/catalog.json"},
        DiagnosticCase{"BootstrapNotAnAddress",
                       [](config::Config& c) { c.resolvers.bootstrap = "resolver.example.com"; },
                       "/resolvers/bootstrap", "resolver.example.com"},
        DiagnosticCase{"BootstrapBadPort",
                       [](config::Config& c) { c.resolvers.bootstrap = "127.0.0.1:70000"; },
                       "/resolvers/bootstrap", "neither \"system\""}),
    [](const ::testing::TestParamInfo<DiagnosticCase>& param_info) {
      return param_info.param.name;
    });

TEST(ResolverDirectoryTest, ReportsEveryProblemAtOnce) {
  config::Config c = base_config();
  c.resolvers.sets = {{"mine", {"nosuch1"}}};
  c.watch = {watch("home.example.com", {"mine", "nosuch2"})};
  c.resolvers.bootstrap = "not an address";
  auto dir = ResolverDirectory::build(c);
  ASSERT_FALSE(dir);
  EXPECT_THAT(dir.error(), Contains(diagnostic("/resolvers/sets/mine/0", "nosuch1")));
  EXPECT_THAT(dir.error(), Contains(diagnostic("/watch/0/resolvers/1", "nosuch2")));
  EXPECT_THAT(dir.error(), Contains(diagnostic("/resolvers/bootstrap", "not an address")));
}

TEST(ResolverDirectoryTest, ValidReferencesBuild) {
  config::Config c = base_config();
  c.resolvers.custom = {custom("lab", "127.0.0.1:5353")};
  c.resolvers.sets = {{"mine", {"lab", "china", "authoritative"}}, {"all", {"mine", "europe"}}};
  c.watch = {watch("home.example.com", {"all", "authoritative", "google", "lab"})};
  c.resolvers.bootstrap = "cloudflare";
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());
  auto selection = dir->select({"all"}, false);
  ASSERT_TRUE(selection);
  EXPECT_TRUE(selection->authoritative);
  EXPECT_EQ(ids_of(*selection).front(), "lab");
}

TEST(ResolverDirectoryTest, ConfigSetReplacesCatalogSetOfTheSameName) {
  config::Config c = base_config();
  c.resolvers.sets = {{"china", {"alidns"}}};
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());
  auto selection = dir->select({"china"}, false);
  ASSERT_TRUE(selection);
  EXPECT_THAT(ids_of(*selection), ElementsAre("alidns"));
}

TEST(ResolverDirectoryTest, CatalogFileAddsResolversAndSets) {
  testing::TempDir tmp;
  const auto file = tmp.write("catalog.json", R"json({
    "version": 1,
    "resolvers": [
      {"id": "lab-dns", "name": "Lab DNS", "operator": "Lab", "geo": "EU",
       "ipv6": ["2001:db8::53"]},
      {"id": "google", "name": "Google (lab mirror)", "operator": "Lab",
       "ipv4": ["192.0.2.8"]}
    ],
    "sets": {"lab-set": ["lab-dns", "google", "cloudflare"]}
  })json");
  config::Config c = base_config();
  c.resolvers.catalog = file;
  c.resolvers.rate_limit = 11;
  c.watch = {watch("home.example.com", {"lab-set"})};
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());

  const NamedResolver* lab = dir->find("lab-dns");
  ASSERT_NE(lab, nullptr);
  EXPECT_EQ(lab->spec.address, "2001:db8::53");
  EXPECT_EQ(lab->spec.port, 53);
  EXPECT_DOUBLE_EQ(lab->spec.rate_limit, 11);
  EXPECT_EQ(lab->name, "Lab DNS");
  EXPECT_EQ(lab->geo, "EU");
  EXPECT_EQ(dir->find("google")->spec.address, "192.0.2.8");
  EXPECT_EQ(dir->find("google")->operator_name, "Lab");
  EXPECT_NE(dir->find("quad9"), nullptr);  // the built-in catalog is still there

  auto selection = dir->select({"lab-set"}, false);
  ASSERT_TRUE(selection) << selection.error().message;
  EXPECT_THAT(ids_of(*selection), ElementsAre("lab-dns", "google", "cloudflare"));
}

TEST(ResolverDirectoryTest, InvalidCatalogFileIsReported) {
  testing::TempDir tmp;
  const auto file = tmp.write("catalog.json", R"({"version": 1, "resolvers": [{"id": "x"}]})");
  config::Config c = base_config();
  c.resolvers.catalog = file;
  auto dir = ResolverDirectory::build(c);
  ASSERT_FALSE(dir);
  EXPECT_THAT(dir.error(), Contains(diagnostic("/resolvers/catalog",
                                               file.string() + ": /resolvers/0: no ipv4")));
}

TEST(ResolverDirectoryTest, CatalogFileSetsAreChecked) {
  testing::TempDir tmp;
  const auto file = tmp.write("catalog.json", R"json({
    "version": 1,
    "resolvers": [{"id": "lab-dns", "ipv4": ["192.0.2.53"]}],
    "sets": {"broken": ["lab-dns", "nosuch"], "loop1": ["loop2"], "loop2": ["loop1"]}
  })json");
  config::Config c = base_config();
  c.resolvers.catalog = file;
  auto dir = ResolverDirectory::build(c);
  ASSERT_FALSE(dir) << "a catalog file's broken sets must be reported when the config loads";
  EXPECT_THAT(dir.error(),
              Contains(diagnostic("/resolvers/catalog",
                                  "set \"broken\": unknown resolver or set \"nosuch\"")));
  EXPECT_THAT(dir.error(), Contains(diagnostic("/resolvers/catalog",
                                               "set \"loop1\": sets "
                                               "include each other")));
}

TEST(ResolverDirectoryTest, ConfigSetMayNotShadowACatalogResolver) {
  config::Config c = base_config();
  c.resolvers.sets = {{"google", {"cloudflare"}}};
  auto dir = ResolverDirectory::build(c);
  ASSERT_FALSE(dir);
  EXPECT_THAT(dir.error(),
              Contains(diagnostic("/resolvers/sets/google",
                                  "set name \"google\" is also the id of a catalog resolver")));
}

TEST(ResolverDirectoryTest, BootstrapFromAddress) {
  config::Config c = base_config();
  c.resolvers.timeout = std::chrono::milliseconds(1200);
  c.resolvers.tries = 3;
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());

  auto spec = dir->bootstrap("127.0.0.1:5300");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->id, "bootstrap");
  EXPECT_EQ(spec->address, "127.0.0.1");
  EXPECT_EQ(spec->port, 5300);
  EXPECT_TRUE(spec->recursion);
  EXPECT_DOUBLE_EQ(spec->rate_limit, 0);
  EXPECT_EQ(spec->timeout, std::chrono::milliseconds(1200));
  EXPECT_EQ(spec->tries, 3);

  auto v6 = dir->bootstrap("[2001:db8::53]:5353");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->address, "2001:db8::53");
  EXPECT_EQ(v6->port, 5353);

  auto plain = dir->bootstrap("192.0.2.1");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, 53);

  for (const char* bad : {"resolver.example.com", "googel", "1.2.3.4:abc"}) {
    auto b = dir->bootstrap(bad);
    ASSERT_FALSE(b) << bad;
    EXPECT_THAT(b.error().message, HasSubstr(bad));
  }
}

TEST(ResolverDirectoryTest, BootstrapFromResolverId) {
  config::Config c = base_config();
  config::CustomResolver auth = custom("lab-auth", "127.0.0.1:5399");
  auth.recursion = false;
  auth.rate_limit = 3;
  c.resolvers.custom = {auth};
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());

  auto google = dir->bootstrap("google");
  ASSERT_TRUE(google) << google.error().message;
  EXPECT_EQ(google->id, "bootstrap");
  EXPECT_EQ(google->address, "8.8.8.8");
  EXPECT_EQ(google->port, 53);
  EXPECT_TRUE(google->recursion);
  EXPECT_DOUBLE_EQ(google->rate_limit, 0);  // not paced like the public resolver it names

  auto lab = dir->bootstrap("lab-auth");
  ASSERT_TRUE(lab);
  EXPECT_EQ(lab->id, "bootstrap");
  EXPECT_EQ(lab->address, "127.0.0.1");
  EXPECT_EQ(lab->port, 5399);
  EXPECT_TRUE(lab->recursion);  // the bootstrap resolver always recurses
}

TEST(ResolverDirectoryTest, AuthoritativeSpec) {
  config::Config c = base_config();
  c.resolvers.timeout = std::chrono::milliseconds(800);
  c.resolvers.tries = 1;
  auto dir = ResolverDirectory::build(c);
  ASSERT_TRUE(dir) << describe(dir.error());
  const ResolverSpec spec = dir->authoritative_spec("ns1.example.com", "192.0.2.53", 5354);
  EXPECT_EQ(spec.id, "ns1.example.com");
  EXPECT_EQ(spec.address, "192.0.2.53");
  EXPECT_EQ(spec.port, 5354);
  EXPECT_FALSE(spec.recursion);
  EXPECT_EQ(spec.timeout, std::chrono::milliseconds(800));
  EXPECT_EQ(spec.tries, 1);
}

}  // namespace
}  // namespace ddnswatch::resolvers
