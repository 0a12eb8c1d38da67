// The DNS engine and the daemon against a DNS server that misbehaves on purpose (support/
// hostile_dns.h): each kind of bad answer must end in its outcome class with a readable
// detail, TTLs must be read as RFC 2181 says, and the engine must stay usable: a good query
// right after each bad one succeeds. The daemon, watching a name at several hostile servers
// and one good lab cache, must keep cycling, count every kind under its outcome, show the
// verdict a user expects, and log the resolver and the problem in plain text.
#include "support/hostile_dns.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/observers.h"
#include "resolvers/dns_engine.h"
#include "resolvers/dns_types.h"
#include "support/dns_answers.h"
#include "support/lab_fixture.h"
#include "support/loop_runner.h"
#include "support/metrics_text.h"

namespace ddnswatch {
namespace {

using resolvers::Answer;
using resolvers::DnsEngine;
using resolvers::Outcome;
using resolvers::QType;
using resolvers::Question;
using resolvers::ResolverSpec;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::CountingObserver;
using testing::describe;
using testing::HostileDnsOptions;
using testing::HostileDnsServer;
using testing::HostileMode;

constexpr milliseconds kTimeout{300};  // per try; the late answers come after it

std::string name_for(HostileMode mode) {
  return std::string(testing::to_string(mode)) + ".hostile.test";
}

// True when `text` is plain printable ASCII (what a log line may carry).
bool printable(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// One hostile server for the suite; a fresh loop and engine per test.
class HostileDnsEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    HostileDnsOptions options;
    options.late_delay = milliseconds(600);
    server_ = std::make_unique<HostileDnsServer>(options);
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(server_->ok()) << "cannot bind UDP and TCP on 127.0.0.1";
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop) << loop.error().message;
    loop_ = std::move(*loop);
    auto engine = DnsEngine::create(*loop_, clock_, &observer_);
    ASSERT_TRUE(engine) << engine.error().message;
    engine_ = std::move(*engine);
    ResolverSpec spec;
    spec.id = "hostile";
    spec.address = server_->address();
    spec.port = server_->port();
    spec.timeout = kTimeout;
    spec.tries = 1;
    auto added = engine_->add_resolver(spec);
    ASSERT_TRUE(added) << added.error().message;
  }
  void TearDown() override {
    engine_.reset();  // before its loop
    loop_.reset();
  }

  // Asks `name` and runs the loop until the answer came (every query ends within a second).
  Answer ask(const std::string& name, QType type = QType::kA) {
    std::optional<Answer> got;
    engine_->query("hostile", Question{name, type}, [&](const Answer& a) { got = a; });
    EXPECT_TRUE(testing::run_loop_until(
        *loop_, [&] { return got.has_value(); }, seconds(5)))
        << name << " got no answer at all";
    return got.value_or(Answer{});
  }

  static inline std::unique_ptr<HostileDnsServer> server_;
  SystemClock clock_;
  CountingObserver observer_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<DnsEngine> engine_;
};

struct Case {
  HostileMode mode;
  Outcome outcome;
  size_t records = 0;  // for kNoError
  uint32_t ttl = 0;    // of the first record
  bool over_tcp = false;
  const char* detail = "";  // words the answer's detail must contain
};

void PrintTo(const Case& c, std::ostream* out) {
  *out << testing::to_string(c.mode) << " -> " << resolvers::to_string(c.outcome);
}

std::string case_name(const ::testing::TestParamInfo<Case>& param_info) {
  std::string name = testing::to_string(param_info.param.mode);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

class HostileAnswerTest : public HostileDnsEngineTest,
                          public ::testing::WithParamInterface<Case> {};

// Each misbehaviour ends in its outcome, the detail is readable, the observer counts the query
// once, and a good query right after succeeds.
TEST_P(HostileAnswerTest, EndsInItsOutcomeAndTheEngineStaysUsable) {
  const Case& c = GetParam();
  const int tcp_before = server_->tcp_queries();
  const Answer a = ask(name_for(c.mode));
  EXPECT_EQ(a.outcome, c.outcome) << describe(a);
  EXPECT_TRUE(printable(a.detail)) << describe(a);
  EXPECT_THAT(a.detail, ::testing::HasSubstr(c.detail)) << describe(a);
  if (c.outcome == Outcome::kNoError) {
    ASSERT_EQ(a.records.size(), c.records) << describe(a);
    EXPECT_EQ(a.records[0].ttl, c.ttl) << describe(a);
  } else {
    EXPECT_TRUE(a.records.empty()) << describe(a);
  }
  if (c.outcome == Outcome::kMalformed || c.outcome == Outcome::kTimeout ||
      c.outcome == Outcome::kNetwork) {
    EXPECT_FALSE(a.detail.empty()) << "a failure says why: " << describe(a);
  }
  EXPECT_EQ(server_->tcp_queries() > tcp_before, c.over_tcp)
      << "TCP is used exactly when the UDP answer is truncated";

  const Answer good = ask(name_for(HostileMode::kGood));
  EXPECT_EQ(good.outcome, Outcome::kNoError) << describe(good);
  ASSERT_EQ(good.records.size(), 1u) << describe(good);
  EXPECT_EQ(good.records[0].value, "192.0.2.1");
  EXPECT_EQ(good.records[0].ttl, 300u);

  std::map<std::string, int> expected = {{resolvers::to_string(c.outcome), 1}};
  ++expected["noerror"];
  EXPECT_EQ(observer_.counts["hostile"], expected)
      << "each query is counted once, under its outcome";
}

INSTANTIATE_TEST_SUITE_P(
    Misbehaviours, HostileAnswerTest,
    ::testing::Values(
        Case{HostileMode::kGood, Outcome::kNoError, 1, 300},
        Case{HostileMode::kSilent, Outcome::kTimeout},
        // c-ares drops what does not carry the query's ID and question (spoofing defence): the
        // query goes on waiting and times out.
        Case{HostileMode::kRandomBytes, Outcome::kTimeout},
        Case{HostileMode::kWrongId, Outcome::kTimeout},
        Case{HostileMode::kOtherName, Outcome::kTimeout},
        Case{HostileMode::kOtherType, Outcome::kTimeout},
        Case{HostileMode::kQuestionLoop, Outcome::kTimeout},
        Case{HostileMode::kLate, Outcome::kTimeout},
        // Matching ID and question, broken beyond: malformed, with the reason.
        Case{HostileMode::kGarbageBody, Outcome::kMalformed},
        Case{HostileMode::kCutRecord, Outcome::kMalformed, 0, 0, false, "truncated"},
        Case{HostileMode::kShortAddress, Outcome::kMalformed, 0, 0, false, "3 bytes"},
        Case{HostileMode::kNotAResponse, Outcome::kMalformed, 0, 0, false, "QR bit not set"},
        Case{HostileMode::kOpcodeMismatch, Outcome::kMalformed, 0, 0, false, "opcode 2"},
        Case{HostileMode::kPointerLoop, Outcome::kMalformed, 0, 0, false, "bad name"},
        Case{HostileMode::kLabelOverflow, Outcome::kMalformed, 0, 0, false, "bad name"},
        Case{HostileMode::kNameTooLong, Outcome::kMalformed, 0, 0, false, "bad name"},
        Case{HostileMode::kServFail, Outcome::kServFail},
        // TTLs: as sent, except that the top bit set means 0 (RFC 2181 section 8).
        Case{HostileMode::kTtlZero, Outcome::kNoError, 1, 0},
        Case{HostileMode::kTtlMax, Outcome::kNoError, 1, 0x7fffffffu},
        Case{HostileMode::kTtlTopBit, Outcome::kNoError, 1, 0},
        // Large answers: a UDP answer beyond the EDNS size we offered (1232) counts as truncated
        // and is asked again over TCP; the most TCP can carry (64 KB) is read whole.
        Case{HostileMode::kManyRecords, Outcome::kNoError, 300, 300, true},
        Case{HostileMode::kTruncatedThenGood, Outcome::kNoError, 1, 300, true},
        Case{HostileMode::kTruncatedThenHuge, Outcome::kNoError, 4093, 300, true},
        Case{HostileMode::kTruncatedThenCut, Outcome::kNetwork, 0, 0, true,
             "closed the TCP connection"},
        Case{HostileMode::kTruncatedThenClose, Outcome::kNetwork, 0, 0, true,
             "closed the TCP connection"}),
    case_name);

// A late answer to a query that already timed out, arriving while a fresh query (another ID)
// for the same name is out, is dropped: the fresh query gets its own answer.
TEST_F(HostileDnsEngineTest, LateAnswerDuringAFreshQueryIsNotTakenForIt) {
  const std::string name = name_for(HostileMode::kLateAfterFresh);
  const Answer first = ask(name);
  EXPECT_EQ(first.outcome, Outcome::kTimeout) << describe(first);
  const Answer fresh = ask(name);
  EXPECT_EQ(fresh.outcome, Outcome::kNoError) << describe(fresh);
  ASSERT_EQ(fresh.records.size(), 1u) << describe(fresh);
  EXPECT_EQ(fresh.records[0].value, "192.0.2.1")
      << "192.0.2.2 is the late answer to the first query";
}

// Many queries at once, misbehaviours mixed with good ones: each ends exactly once, and the
// engine answers the next good query.
TEST_F(HostileDnsEngineTest, MixedBurstEndsEveryQueryOnce) {
  std::vector<std::string> names;
  for (int round = 0; round < 3; ++round) {
    for (HostileMode mode :
         {HostileMode::kRandomBytes, HostileMode::kGarbageBody, HostileMode::kCutRecord,
          HostileMode::kPointerLoop, HostileMode::kTruncatedThenClose,
          HostileMode::kTruncatedThenGood, HostileMode::kWrongId, HostileMode::kGood}) {
      names.push_back(name_for(mode));
    }
  }
  std::vector<int> calls(names.size(), 0);
  std::vector<Answer> answers(names.size());
  size_t ended = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    engine_->query("hostile", Question{names[i], QType::kA}, [&, i](const Answer& a) {
      if (++calls[i] == 1) ++ended;
      answers[i] = a;
    });
  }
  ASSERT_TRUE(testing::run_loop_until(
      *loop_, [&] { return ended == names.size(); }, seconds(5)));
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(calls[i], 1) << names[i];
    // c-ares ends every query in flight to a server that hangs up a TCP connection (UDP ones
    // too): with one try they end as network errors that say so; the others end as they would
    // alone.
    const bool good = names[i] == name_for(HostileMode::kGood) ||
                      names[i] == name_for(HostileMode::kTruncatedThenGood);
    if (good && answers[i].outcome != Outcome::kNoError) {
      EXPECT_EQ(answers[i].outcome, Outcome::kNetwork) << names[i] << ": " << describe(answers[i]);
      EXPECT_THAT(answers[i].detail, ::testing::HasSubstr("closed the TCP connection"));
    }
  }
  EXPECT_EQ(engine_->in_flight(), 0u);
  EXPECT_EQ(engine_->queued(), 0u);
  const Answer after = ask(name_for(HostileMode::kGood));
  EXPECT_EQ(after.outcome, Outcome::kNoError) << describe(after);
}

// --- The daemon ------------------------------------------------------------------------------

using nlohmann::json;

class HostileDnsDaemonTest : public testing::LabDaemonFixture {
 protected:
  std::string scrape() const { return testing::http_get(url("/metrics")).body; }
  static double value(const std::string& metrics, const std::string& metric,
                      const std::map<std::string, std::string>& labels) {
    return testing::metric_value(metrics, metric, labels).value_or(-1);
  }
  // The verdict the metrics show for a resolver, or "" if none is 1.
  static std::string state(const std::string& metrics, const std::string& resolver) {
    for (const char* s : {"match", "stale", "foreign", "empty", "nxdomain", "error"}) {
      if (value(metrics, "ddnswatch_dns_answer_state", {{"resolver", resolver}, {"state", s}}) ==
          1) {
        return s;
      }
    }
    return "";
  }
};

// A name of the lab watched at one good cache and at hostile servers of every kind, every
// second: the daemon keeps cycling, counts each kind under its outcome, shows "error" for the
// broken ones and "match" where the address is right, and logs each failing resolver once, in
// plain text.
TEST_F(HostileDnsDaemonTest, KeepsCyclingAndTellsEachKindOfBadAnswerApart) {
  const std::string name = "fixed.ddnswatch.test";  // 192.0.2.10 in the lab's zone
  struct Hostile {
    HostileMode mode;
    std::string outcome;
    std::string verdict;
  };
  const std::vector<Hostile> kinds = {
      {HostileMode::kRandomBytes, "timeout", "error"},
      {HostileMode::kWrongId, "timeout", "error"},
      {HostileMode::kLate, "timeout", "error"},
      {HostileMode::kCutRecord, "malformed", "error"},
      {HostileMode::kGarbageBody, "malformed", "error"},
      {HostileMode::kPointerLoop, "malformed", "error"},
      {HostileMode::kOpcodeMismatch, "malformed", "error"},
      {HostileMode::kTruncatedThenClose, "network", "error"},
      {HostileMode::kServFail, "servfail", "error"},
      {HostileMode::kTtlTopBit, "noerror", "match"},
      {HostileMode::kTruncatedThenHuge, "noerror", "foreign"},
  };
  std::vector<std::unique_ptr<HostileDnsServer>> servers;
  json cfg_resolvers = json::array({"fast"});
  json cfg = config(json::array());
  for (const auto& k : kinds) {
    HostileDnsOptions options;
    options.mode = k.mode;
    options.answer = "192.0.2.10";
    options.late_delay = milliseconds(1500);  // the lab config's timeout is 1 s
    servers.push_back(std::make_unique<HostileDnsServer>(options));
    ASSERT_TRUE(servers.back()->ok());
    const std::string id = std::string("h-") + testing::to_string(k.mode);
    cfg["resolvers"]["custom"].push_back(
        {{"id", id}, {"address", servers.back()->endpoint()}, {"operator", "hostile"}});
    cfg_resolvers.push_back(id);
  }
  cfg["watch"] = json::array({{{"name", name},
                               {"type", "A"},
                               {"expect", {"192.0.2.10"}},
                               {"resolvers", cfg_resolvers},
                               {"interval", "1s"}}});
  auto daemon = start(cfg);

  // Four cycles, each seen to end later than the one before.
  std::vector<double> cycles;
  std::string m;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        m = scrape();
        const double t = value(m, "ddnswatch_monitor_last_cycle_timestamp_seconds", {});
        if (t > 0 && (cycles.empty() || t > cycles.back())) cycles.push_back(t);
        return cycles.size() >= 4;
      },
      seconds(20)))
      << cycles.size() << " cycles seen\n"
      << m << daemon->err();
  EXPECT_TRUE(daemon->running());

  EXPECT_EQ(state(m, "fast"), "match");
  EXPECT_GE(value(m, "ddnswatch_dns_queries_total", {{"resolver", "fast"}, {"outcome", "noerror"}}),
            3);
  for (const auto& k : kinds) {
    const std::string id = std::string("h-") + testing::to_string(k.mode);
    EXPECT_EQ(state(m, id), k.verdict) << id;
    EXPECT_GE(value(m, "ddnswatch_dns_queries_total", {{"resolver", id}, {"outcome", k.outcome}}),
              3)
        << id;
  }
  EXPECT_EQ(value(m, "ddnswatch_dns_answer_ttl_seconds", {{"resolver", "h-ttl-top-bit"}}), 0)
      << "a TTL with the top bit set counts as 0";

  // The log: each failing resolver named once with its address and the problem, no binary.
  const std::string log = daemon->err();
  for (const auto& k : kinds) {
    if (k.verdict != "error") continue;
    const std::string id = std::string("h-") + testing::to_string(k.mode);
    const std::string line = "resolver " + id + " (";
    size_t count = 0;
    for (size_t at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) {
      ++count;
    }
    EXPECT_EQ(count, 1u) << id << " is logged when it begins to fail, not on every check:\n" << log;
    EXPECT_THAT(log, ::testing::HasSubstr(line)) << log;
  }
  EXPECT_THAT(log, ::testing::HasSubstr("failed: malformed: "));
  EXPECT_TRUE(std::all_of(log.begin(), log.end(), [](char c) {
    return c == '\n' || (c >= 0x20 && c < 0x7f);
  })) << "the log is plain text";
  for (size_t begin = 0, end = 0; begin < log.size(); begin = end + 1) {
    end = std::min(log.find('\n', begin), log.size());
    EXPECT_LT(end - begin, 500u) << "a log line stays short, whatever the answer held: "
                                 << log.substr(begin, 300) << "...";
  }
}

}  // namespace
}  // namespace ddnswatch
