// The monitor's judgement as tables: the verdict on one answer against the expected set and
// its history, a name's figures (groups, split-brain, ratio, ETA), lag, the fast re-check
// schedule, and which changes between two checks are events.
#include "monitor/analyzer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "monitor/monitor.h"
#include "monitor/sweep.h"

namespace ddnswatch::monitor {
namespace {

using resolvers::Outcome;
using std::chrono::seconds;

const WallTime kT0 = WallTime(seconds(1'800'000'000));

Observation answer(Outcome outcome, AddressSet addresses = {}, uint32_t ttl = 60,
                   WallTime at = kT0) {
  return Observation{outcome, std::move(addresses), ttl, at};
}

Expectation expect(AddressSet current, std::vector<AddressSet> history = {}) {
  Expectation e;
  e.current = std::move(current);
  e.history = std::move(history);
  e.changed_at = kT0;
  e.known = true;
  return e;
}

struct ClassifyCase {
  const char* label;
  Observation observation;
  Expectation expectation;
  Verdict verdict;
};

class ClassifyTest : public ::testing::TestWithParam<ClassifyCase> {};

TEST_P(ClassifyTest, Verdict) {
  const ClassifyCase& c = GetParam();
  EXPECT_EQ(to_string(classify(c.observation, c.expectation)), to_string(c.verdict)) << c.label;
}

const AddressSet kNew = {"192.0.2.2"};
const AddressSet kOld = {"192.0.2.1"};
const AddressSet kOlder = {"192.0.2.0"};

INSTANTIATE_TEST_SUITE_P(
    Table, ClassifyTest,
    ::testing::Values(
        ClassifyCase{"exact", answer(Outcome::kNoError, kNew), expect(kNew, {kOld}),
                     Verdict::kMatch},
        ClassifyCase{"same set, other order", answer(Outcome::kNoError, {"192.0.2.3", "192.0.2.2"}),
                     expect({"192.0.2.2", "192.0.2.3"}), Verdict::kMatch},
        ClassifyCase{"previous answer", answer(Outcome::kNoError, kOld), expect(kNew, {kOld}),
                     Verdict::kStale},
        ClassifyCase{"an answer from two changes ago", answer(Outcome::kNoError, kOlder),
                     expect(kNew, {kOld, kOlder}), Verdict::kStale},
        ClassifyCase{"part of the expected set", answer(Outcome::kNoError, kNew),
                     expect({"192.0.2.2", "192.0.2.3"}), Verdict::kStale},
        ClassifyCase{"old and new mixed", answer(Outcome::kNoError, {"192.0.2.1", "192.0.2.2"}),
                     expect(kNew, {kOld}), Verdict::kStale},
        ClassifyCase{"never expected", answer(Outcome::kNoError, {"198.51.100.66"}),
                     expect(kNew, {kOld}), Verdict::kForeign},
        ClassifyCase{"one foreign among expected ones",
                     answer(Outcome::kNoError, {"192.0.2.2", "198.51.100.66"}), expect(kNew),
                     Verdict::kForeign},
        ClassifyCase{"no history: the old answer is foreign", answer(Outcome::kNoError, kOld),
                     expect(kNew), Verdict::kForeign},
        ClassifyCase{"nodata", answer(Outcome::kNoData), expect(kNew), Verdict::kEmpty},
        ClassifyCase{"noerror without addresses", answer(Outcome::kNoError), expect(kNew),
                     Verdict::kEmpty},
        ClassifyCase{"nxdomain", answer(Outcome::kNxDomain), expect(kNew), Verdict::kNxDomain},
        ClassifyCase{"nxdomain for a name that did not exist before", answer(Outcome::kNxDomain),
                     expect(kNew, {{}}), Verdict::kStale},
        ClassifyCase{"nxdomain when no address is expected", answer(Outcome::kNxDomain),
                     expect({}, {kOld}), Verdict::kMatch},
        ClassifyCase{"old address after the name was removed", answer(Outcome::kNoError, kOld),
                     expect({}, {kOld}), Verdict::kStale},
        ClassifyCase{"servfail", answer(Outcome::kServFail), expect(kNew), Verdict::kError},
        ClassifyCase{"refused", answer(Outcome::kRefused), expect(kNew), Verdict::kError},
        ClassifyCase{"timeout", answer(Outcome::kTimeout), expect(kNew), Verdict::kError},
        ClassifyCase{"network", answer(Outcome::kNetwork), expect(kNew), Verdict::kError},
        ClassifyCase{"malformed", answer(Outcome::kMalformed), expect(kNew), Verdict::kError}),
    [](const ::testing::TestParamInfo<ClassifyCase>& param_info) {
      std::string name;
      for (const char* p = param_info.param.label; *p; ++p) {
        name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
      }
      return name;
    });

Row row(const std::string& resolver, Verdict verdict, AddressSet addresses = {}, uint32_t ttl = 0,
        WallTime at = kT0) {
  Row r;
  r.resolver = resolver;
  r.verdict = verdict;
  // The outcome a resolver gives for such a verdict.
  const Outcome outcome = verdict == Verdict::kNxDomain ? Outcome::kNxDomain
                          : verdict == Verdict::kEmpty  ? Outcome::kNoData
                          : verdict == Verdict::kError  ? Outcome::kServFail
                                                        : Outcome::kNoError;
  r.observation = Observation{outcome, std::move(addresses), ttl, at};
  return r;
}

TEST(SummarizeTest, AllMatching) {
  auto s = summarize({row("a", Verdict::kMatch, kNew), row("b", Verdict::kMatch, kNew)}, kT0);
  EXPECT_EQ(s.answer_groups, 1);
  EXPECT_FALSE(s.split_brain);
  EXPECT_DOUBLE_EQ(s.propagation_ratio, 1.0);
  EXPECT_TRUE(s.converged);
  EXPECT_EQ(s.eta, Duration::zero());
}

TEST(SummarizeTest, StaleCachesAreNotSplitBrain) {
  const WallTime now = kT0 + seconds(10);
  auto s = summarize({row("a", Verdict::kMatch, kNew), row("b", Verdict::kStale, kOld, 30, kT0),
                      row("c", Verdict::kStale, kOld, 15, now)},
                     now);
  EXPECT_EQ(s.answer_groups, 2);
  EXPECT_FALSE(s.split_brain);
  EXPECT_NEAR(s.propagation_ratio, 1.0 / 3, 1e-9);
  EXPECT_FALSE(s.converged);
  // b expires at kT0+30 (20 s from now), c at now+15: the later one counts.
  EXPECT_EQ(s.eta, Duration(seconds(20)));
  EXPECT_EQ(s.stale_until, kT0 + seconds(30));
  // Once that time has passed, the ETA is 0 but the time stays known.
  auto later = summarize({row("b", Verdict::kStale, kOld, 30, kT0)}, kT0 + seconds(40));
  EXPECT_EQ(later.eta, Duration::zero());
  EXPECT_EQ(later.stale_until, kT0 + seconds(30));
}

TEST(SummarizeTest, ForeignAnswerIsSplitBrain) {
  auto s = summarize({row("a", Verdict::kMatch, kNew), row("b", Verdict::kForeign, {"x"})}, kT0);
  EXPECT_TRUE(s.split_brain);
  EXPECT_EQ(s.answer_groups, 2);
  EXPECT_DOUBLE_EQ(s.propagation_ratio, 0.5);
}

TEST(SummarizeTest, MatchAgainstNxdomainIsSplitBrain) {
  auto s = summarize({row("a", Verdict::kMatch, kNew), row("b", Verdict::kNxDomain)}, kT0);
  EXPECT_TRUE(s.split_brain);
  EXPECT_EQ(s.answer_groups, 2);
}

TEST(SummarizeTest, ErrorsNeitherAnswerNorDisagree) {
  auto s = summarize({row("a", Verdict::kMatch, kNew), row("b", Verdict::kError)}, kT0);
  EXPECT_FALSE(s.split_brain);
  EXPECT_EQ(s.answer_groups, 1);
  EXPECT_DOUBLE_EQ(s.propagation_ratio, 1.0);  // of those that answered
  EXPECT_EQ(s.answering, 1);
  EXPECT_FALSE(s.converged);  // an erroring resolver has not been seen to match
}

TEST(SummarizeTest, NobodyAnswered) {
  auto s = summarize({row("a", Verdict::kError), row("b", Verdict::kError)}, kT0);
  EXPECT_DOUBLE_EQ(s.propagation_ratio, 0.0);
  EXPECT_EQ(s.answer_groups, 0);
  EXPECT_FALSE(s.split_brain);
}

TEST(SummarizeTest, AGroupIsTheAnswerNotTheVerdict) {
  // A stale NXDOMAIN (the name did not exist before) and a current one are the same answer.
  Row stale_nx = row("a", Verdict::kStale);
  stale_nx.observation.outcome = Outcome::kNxDomain;
  auto s =
      summarize({stale_nx, row("b", Verdict::kNxDomain), row("c", Verdict::kMatch, kNew)}, kT0);
  EXPECT_EQ(s.answer_groups, 2);
}

TEST(SummarizeTest, EmptyAndNxdomainAreDifferentAnswers) {
  auto s = summarize({row("a", Verdict::kEmpty), row("b", Verdict::kNxDomain)}, kT0);
  EXPECT_EQ(s.answer_groups, 2);
  EXPECT_TRUE(s.split_brain);
}

TEST(LagTest, FirstMatchOrElapsed) {
  EXPECT_EQ(lag(kT0, kT0 + seconds(17), kT0 + seconds(60)), Duration(seconds(17)));
  EXPECT_EQ(lag(kT0, std::nullopt, kT0 + seconds(60)), Duration(seconds(60)));
  EXPECT_EQ(lag(kT0, kT0 - seconds(5), kT0), Duration::zero());  // clock stepped back
}

struct ScheduleCase {
  const char* label;
  bool converged;
  Duration eta;
  Duration since_change;
  Duration expected;
};

TEST(NextCheckTest, Table) {
  const Duration interval = seconds(30);
  const Duration fast = seconds(5);
  const ScheduleCase cases[] = {
      {"converged", true, Duration::zero(), seconds(3), interval},
      {"just changed", false, Duration::zero(), seconds(3), fast},
      {"stale answers still to expire", false, seconds(200), seconds(100), fast},
      {"change older than an interval, nothing stale", false, Duration::zero(), seconds(31),
       interval},
      {"stale but the change is over an hour old", false, seconds(86000), std::chrono::hours(2),
       interval},
  };
  for (const auto& c : cases) {
    NameSummary s;
    s.converged = c.converged;
    s.eta = c.eta;
    const WallTime now = kT0 + c.since_change;
    EXPECT_EQ(next_check(s, kT0, now, interval, fast), c.expected) << c.label;
  }
  // A stale answer whose TTL ran out a moment ago (a cache answering the old address with
  // TTL 0): its flip is due now, so the pace stays fast for one more interval.
  NameSummary expired;
  expired.stale_until = kT0 + seconds(100);
  EXPECT_EQ(next_check(expired, kT0, kT0 + seconds(101), interval, fast), fast);
  EXPECT_EQ(next_check(expired, kT0, kT0 + seconds(131), interval, fast), interval)
      << "a cache stale for a whole interval past its TTL does not keep the fast pace";
  NameSummary s;
  EXPECT_EQ(next_check(s, kT0, kT0, seconds(5), seconds(10)), seconds(5))
      << "a fast interval longer than the interval is not faster";
}

NameState state(std::vector<Row> rows, bool change_pending = false) {
  NameState s;
  s.summary = summarize(rows, kT0);
  s.rows = std::move(rows);
  s.change_pending = change_pending;
  return s;
}

std::vector<std::string> kinds(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    out.push_back(std::string(to_string(e.kind)) + (e.resolver.empty() ? "" : ":" + e.resolver));
  }
  return out;
}

TEST(DiffTest, FirstReportTellsOnlyBadNews) {
  auto first = state({row("a", Verdict::kMatch, kNew), row("b", Verdict::kForeign, {"x"}),
                      row("c", Verdict::kStale, kOld)});
  EXPECT_THAT(kinds(diff(nullptr, first)),
              ::testing::ElementsAre("resolver_foreign:b", "split_brain_began"));
}

TEST(DiffTest, TransitionsAreEdgeTriggered) {
  auto before = state({row("a", Verdict::kStale, kOld), row("b", Verdict::kMatch, kNew)}, true);
  auto same = state({row("a", Verdict::kStale, kOld), row("b", Verdict::kMatch, kNew)}, true);
  EXPECT_TRUE(diff(&before, same).empty()) << "nothing changed, nothing to say";

  auto after = state({row("a", Verdict::kMatch, kNew), row("b", Verdict::kMatch, kNew)}, true);
  EXPECT_THAT(kinds(diff(&before, after)),
              ::testing::ElementsAre("resolver_recovered:a", "propagation_complete"));
}

// A resolver that answers a foreign address, or fails, never gets the change by waiting: it
// does not hold back "propagation complete", which then tells that every other resolver has
// it. An old answer (stale, or no address yet) still does.
TEST(DiffTest, PropagationCompletesBesideForeignAndFailingResolvers) {
  auto before = state({row("a", Verdict::kStale, kOld), row("b", Verdict::kMatch, kNew),
                       row("split", Verdict::kForeign, {"x"}), row("down", Verdict::kError)},
                      true);
  EXPECT_FALSE(before.summary.propagated);
  auto after = state({row("a", Verdict::kMatch, kNew), row("b", Verdict::kMatch, kNew),
                      row("split", Verdict::kForeign, {"x"}), row("down", Verdict::kError)},
                     true);
  EXPECT_TRUE(after.summary.propagated);
  EXPECT_FALSE(after.summary.converged);
  EXPECT_NEAR(after.summary.propagation_ratio, 2.0 / 3, 1e-9);
  EXPECT_THAT(kinds(diff(&before, after)),
              ::testing::ElementsAre("resolver_recovered:a", "propagation_complete"));

  auto negative = state({row("a", Verdict::kNxDomain), row("b", Verdict::kMatch, kNew)}, true);
  EXPECT_FALSE(negative.summary.propagated) << "a cached NXDOMAIN is an old answer";
  auto failing = state({row("a", Verdict::kError), row("b", Verdict::kForeign, {"x"})}, true);
  EXPECT_FALSE(failing.summary.propagated) << "nobody matches";
}

TEST(DiffTest, RecoveryWithoutAChangeIsNotPropagation) {
  auto before = state({row("a", Verdict::kError), row("b", Verdict::kMatch, kNew)});
  auto after = state({row("a", Verdict::kMatch, kNew), row("b", Verdict::kMatch, kNew)});
  EXPECT_THAT(kinds(diff(&before, after)), ::testing::ElementsAre("resolver_recovered:a"));
}

TEST(DiffTest, SplitBrainBeginsAndEnds) {
  auto calm = state({row("a", Verdict::kMatch, kNew), row("b", Verdict::kMatch, kNew)});
  auto split = state({row("a", Verdict::kMatch, kNew), row("b", Verdict::kForeign, {"x"})});
  EXPECT_THAT(kinds(diff(&calm, split)),
              ::testing::ElementsAre("resolver_foreign:b", "split_brain_began"));
  EXPECT_THAT(kinds(diff(&split, calm)),
              ::testing::ElementsAre("resolver_recovered:b", "split_brain_ended"));
}

TEST(DiffTest, AResolverThatStopsAnsweringIsSaidOnceWithItsOutcome) {
  auto before = state({row("a", Verdict::kMatch, kNew), row("b", Verdict::kMatch, kNew)});
  auto failing = state({row("a", Verdict::kError), row("b", Verdict::kMatch, kNew)});
  auto events = diff(&before, failing);
  EXPECT_THAT(kinds(events), ::testing::ElementsAre("resolver_error:a"));
  EXPECT_EQ(events[0].detail, "servfail");
  EXPECT_TRUE(diff(&failing, failing).empty()) << "still failing: nothing new to say";
  EXPECT_THAT(kinds(diff(&failing, before)), ::testing::ElementsAre("resolver_recovered:a"));
  EXPECT_THAT(kinds(diff(nullptr, failing)), ::testing::ElementsAre("resolver_error:a"))
      << "failing from the first check is bad news too";
}

TEST(DiffTest, GoingStaleIsAnEvent) {
  auto before = state({row("a", Verdict::kMatch, kNew)});
  auto after = state({row("a", Verdict::kStale, kOld)});
  EXPECT_THAT(kinds(diff(&before, after)), ::testing::ElementsAre("resolver_stale:a"));
}

TEST(AddressSetTest, Text) {
  EXPECT_EQ(to_string(AddressSet{}), "-");
  EXPECT_EQ(to_string(AddressSet{"192.0.2.2", "192.0.2.1"}), "192.0.2.1,192.0.2.2");
}

TEST(AddressSetTest, ShortTextNamesAFewAndCountsTheRest) {
  EXPECT_EQ(to_short_string(AddressSet{}), "-");
  EXPECT_EQ(to_short_string(AddressSet{"192.0.2.2", "192.0.2.1"}, 2), "192.0.2.1,192.0.2.2");
  EXPECT_EQ(to_short_string(AddressSet{"192.0.2.3", "192.0.2.2", "192.0.2.1"}, 2),
            "192.0.2.1,192.0.2.2,... (3 addresses)");
}

// A foreign answer of thousands of addresses (a hostile server) makes an event of one line.
TEST(DiffTest, AHugeForeignAnswerIsShortInTheEvent) {
  AddressSet huge;
  for (int i = 0; i < 4000; ++i)
    huge.insert("198.18." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  auto before = state({row("a", Verdict::kMatch, kNew)});
  NameState after = before;
  after.rows[0].verdict = Verdict::kForeign;
  after.rows[0].observation.addresses = huge;
  const auto events = diff(&before, after);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].kind, EventKind::kResolverForeign);
  EXPECT_LT(events[0].detail.size(), 200u);
  EXPECT_THAT(events[0].detail, ::testing::HasSubstr("(4000 addresses)"));
}

}  // namespace
}  // namespace ddnswatch::monitor

namespace ddnswatch::monitor {
namespace {

AuthoritativeAnswer server(const char* id, std::optional<uint32_t> serial, const char* address,
                           bool aa = true) {
  AuthoritativeAnswer a;
  a.resolver = id;
  a.serial = serial;
  a.answer.outcome = Outcome::kNoError;
  a.answer.authoritative = aa;
  a.answer.records.push_back({address, 60});
  return a;
}

std::string expected_of(std::vector<AuthoritativeAnswer> servers) {
  SweepResult sweep;
  sweep.authoritative = std::move(servers);
  auto e = expected_from_authoritative(sweep);
  return e ? to_string(*e) : "unknown";
}

TEST(ExpectedFromAuthoritativeTest, NewestSerialWins) {
  EXPECT_EQ(expected_of({server("ns2", 90, "192.0.2.1"), server("ns1", 101, "192.0.2.99")}),
            "192.0.2.99");
}

TEST(ExpectedFromAuthoritativeTest, SerialsCompareWithWrapAround) {
  // RFC 1982: after 4294967295 comes 0, then 1.
  EXPECT_EQ(expected_of({server("ns1", 4294967295u, "192.0.2.1"), server("ns2", 1, "192.0.2.2")}),
            "192.0.2.2");
}

TEST(ExpectedFromAuthoritativeTest, AServerWithoutSerialDoesNotWinOverOneWithIt) {
  // The primary's SOA query timed out: its answer (no serial) must not be taken as newest,
  // nor the secondary's lose to it.
  EXPECT_EQ(
      expected_of({server("ns1", std::nullopt, "192.0.2.99"), server("ns2", 90, "192.0.2.1")}),
      "192.0.2.1");
  EXPECT_EQ(expected_of({server("ns1", std::nullopt, "192.0.2.99")}), "192.0.2.99");
}

TEST(ExpectedFromAuthoritativeTest, OnlyAuthoritativeAnswersCount) {
  EXPECT_EQ(expected_of({server("lame", 200, "192.0.2.7", /*aa=*/false)}), "unknown");
  auto out_of_zone = server("ns1", 100, "192.0.2.1");
  out_of_zone.answer.records.clear();
  out_of_zone.answer.cname_chain = {"edge.cdn.example"};
  EXPECT_EQ(expected_of({out_of_zone}), "unknown") << "a CNAME out of the zone is not an answer";
  auto nxdomain = server("ns1", 100, "192.0.2.1");
  nxdomain.answer.records.clear();
  nxdomain.answer.outcome = Outcome::kNxDomain;
  EXPECT_EQ(expected_of({nxdomain}), "-") << "NXDOMAIN from the zone: no address expected";
}

}  // namespace
}  // namespace ddnswatch::monitor
