// `ddnswatch probe` against the DNS lab, as a person runs it in a shell: the table names each
// resolver with its operator and geography, its answer, TTL, verdict and latency; the summary
// line says what is wrong; the exit code says whether every resolver matched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/lab_fixture.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

class ProbeTest : public testing::LabFixture {
 protected:
  void SetUp() override {
    LabFixture::SetUp();
    if (HasFatalFailure()) return;
    config_ = dir_.write("ddnswatch.json", json{{"state_dir", (dir_.path() / "state").string()},
                                                {"resolvers", lab_->resolvers_section()}}
                                               .dump());
  }

  testing::RunResult probe(std::vector<std::string> args) {
    std::vector<std::string> argv = {DDNSWATCH_BINARY, "--config", config_.string(), "probe"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_command(argv, dir_.path(), seconds(20));
  }

  // The table line of a resolver.
  static std::string line_of(const std::string& out, const std::string& resolver) {
    size_t pos = out.find("\n" + resolver + " ");
    if (pos == std::string::npos) return "";
    size_t end = out.find('\n', pos + 1);
    return out.substr(pos + 1, end - pos - 1);
  }

  testing::TempDir dir_;
  std::filesystem::path config_;
};

TEST_F(ProbeTest, TableShowsEveryResolversVerdict) {
  auto r = probe({"host1.ddnswatch.test", "--resolvers",
                  "fast,slow15,split,servfail,drop,dead,authoritative"});
  EXPECT_EQ(r.code, 1) << "a foreign answer is not a match\n" << r.out << r.err;
  EXPECT_THAT(r.out, ContainsRegex("RESOLVER +OPERATOR +GEO +ANSWER +TTL +VERDICT +LATENCY"));
  EXPECT_THAT(line_of(r.out, "fast"),
              ContainsRegex("^fast +lab +L1 +192\\.0\\.2\\.1 +[0-5] +match +[0-9.]+ ms$"));
  EXPECT_THAT(line_of(r.out, "slow15"), ContainsRegex("192\\.0\\.2\\.1 +1?[0-9] +match"));
  EXPECT_THAT(line_of(r.out, "split"), ContainsRegex("198\\.51\\.100\\.66 +[0-5] +foreign"));
  EXPECT_THAT(line_of(r.out, "servfail"), ContainsRegex("SERVFAIL +error"));
  EXPECT_THAT(line_of(r.out, "drop"), ContainsRegex("timeout +error"));
  EXPECT_THAT(line_of(r.out, "dead"), ContainsRegex("connection refused.* error"));
  EXPECT_THAT(line_of(r.out, "auth:ns1.ddnswatch.test"),
              ContainsRegex("serial 1[0-9][0-9] +authoritative +192\\.0\\.2\\.1 +5 +match"));
  EXPECT_THAT(line_of(r.out, "auth:ns2.ddnswatch.test"), ContainsRegex("serial 90 "));
  EXPECT_THAT(r.out, HasSubstr("host1.ddnswatch.test A: expected 192.0.2.1 (authoritative); "
                               "4 of 8 match, 1 foreign, 3 error; propagation 80%; "
                               "SPLIT-BRAIN; authoritative serials differ\n"));
}

TEST_F(ProbeTest, ExitCodeSaysWhetherEveryResolverMatches) {
  EXPECT_EQ(probe({"host1.ddnswatch.test", "-r", "fast,slow15", "--expect", "192.0.2.1"}).code, 0);
  auto wrong = probe({"host1.ddnswatch.test", "-r", "fast", "--expect", "192.0.2.7"});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_THAT(line_of(wrong.out, "fast"), HasSubstr("foreign"));
  // A literal resolver address works without any config entry.
  auto literal =
      probe({"fixed.ddnswatch.test", "-r", lab_->endpoint("fast"), "--expect", "192.0.2.10"});
  EXPECT_EQ(literal.code, 0) << literal.out << literal.err;
  // The CNAME is followed: www points at fixed.
  EXPECT_EQ(probe({"www.ddnswatch.test", "-r", "fast", "--expect", "192.0.2.10"}).code, 0);
  auto v6 =
      probe({"v6.ddnswatch.test", "--type", "AAAA", "-r", "fast", "--expect", "2001:db8::10"});
  EXPECT_EQ(v6.code, 0) << v6.out << v6.err;
}

TEST_F(ProbeTest, JsonCarriesTheSameVerdicts) {
  auto r = probe({"www.ddnswatch.test", "-r", "fast,split,authoritative", "--json"});
  EXPECT_EQ(r.code, 0) << "split passes www through (its local data covers other names)\n"
                       << r.out << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["expected"], json({"192.0.2.10"}));
  EXPECT_EQ(doc["expected_source"], "authoritative");
  EXPECT_EQ(doc["zone"], "ddnswatch.test");
  ASSERT_EQ(doc["resolvers"].size(), 4u);
  const json& fast = doc["resolvers"][0];
  EXPECT_EQ(fast["resolver"], "fast");
  EXPECT_EQ(fast["verdict"], "match");
  EXPECT_EQ(fast["outcome"], "noerror");
  EXPECT_EQ(fast["cname_chain"], json({"fixed.ddnswatch.test"}));
  EXPECT_EQ(fast["operator"], "lab");
  EXPECT_TRUE(doc["resolvers"][2]["aa"].get<bool>()) << "authoritative answers carry AA";
  EXPECT_TRUE(doc["summary"]["all_match"].get<bool>());
  EXPECT_EQ(doc["authoritative_serials"]["auth:ns2.ddnswatch.test"], 90);
}

TEST_F(ProbeTest, UsageErrorsExitWithTwo) {
  auto bad_type = probe({"host1.ddnswatch.test", "--type", "MX"});
  EXPECT_EQ(bad_type.code, 2);
  auto unknown = probe({"host1.ddnswatch.test", "-r", "slow51"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown resolver or set \"slow51\" (did you mean"));
  auto bad_expect = probe({"host1.ddnswatch.test", "-r", "fast", "--expect", "192.0.2.300"});
  EXPECT_EQ(bad_expect.code, 2);
  EXPECT_THAT(bad_expect.err, HasSubstr("\"192.0.2.300\" is not an IPv4 address"));
  auto v4_for_v6 = probe({"v6.ddnswatch.test", "-t", "AAAA", "-r", "fast", "-e", "192.0.2.1"});
  EXPECT_EQ(v4_for_v6.code, 2);
  auto bad_name = probe({"not a name", "-r", "fast"});
  EXPECT_EQ(bad_name.code, 2);
  EXPECT_EQ(probe({}).code, 2) << "NAME is required";
}

}  // namespace
}  // namespace ddnswatch
