// The DNS engine against real servers: one DNS lab (BIND, unbound caches that answer, cache,
// fail, drop and refuse) per suite, a fresh EventLoop and DnsEngine per test on the test thread.
// Each test queues its queries, runs the loop until every callback arrived (a safety timer
// stops the loop and fails the test at a deadline) and checks what a user of the engine would
// notice: outcome classes, records, transports, the in-flight cap, the rate limit, the
// observer, resolver removal, and that queries to different resolvers run in parallel.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/observers.h"
#include "resolvers/dns_engine.h"
#include "resolvers/dns_types.h"
#include "support/dns_answers.h"
#include "support/hostile_dns.h"
#include "support/lab_fixture.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using resolvers::Answer;
using resolvers::DnsEngine;
using resolvers::Outcome;
using resolvers::QType;
using resolvers::Question;
using resolvers::ResolverSpec;
using resolvers::Transport;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::CountingObserver;
using testing::describe;

constexpr char kZone[] = "ddnswatch.test";

std::string fqdn(const std::string& label) { return label + "." + kZone; }

std::string outcome_of(const Answer& a) { return resolvers::to_string(a.outcome); }

std::vector<std::string> values(const Answer& a) {
  std::vector<std::string> out;
  for (const auto& r : a.records) out.push_back(r.value);
  std::sort(out.begin(), out.end());
  return out;
}

// One query's end as its callback saw it.
struct Call {
  int count = 0;  // times the callback ran
  Answer answer;
};

class DnsEngineTest : public testing::LabFixture {
 protected:
  void SetUp() override {
    LabFixture::SetUp();
    if (HasFatalFailure()) return;
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop) << loop.error().message;
    loop_ = std::move(*loop);
    auto engine = DnsEngine::create(*loop_, clock_, &observer_);
    ASSERT_TRUE(engine) << engine.error().message;
    engine_ = std::move(*engine);
  }
  void TearDown() override {
    engine_.reset();  // before its loop
    loop_.reset();
  }

  // A lab cache ("LAB_FAST", ...) as resolver `id`: recursion, one try of `timeout`.
  static ResolverSpec cache(const std::string& id, const std::string& key,
                            milliseconds timeout = seconds(2)) {
    ResolverSpec spec;
    spec.id = id;
    spec.address = lab_->get(key);
    spec.port = lab_->cache_port();
    spec.timeout = timeout;
    spec.tries = 1;
    return spec;
  }
  // The primary authoritative server (BIND), asked without recursion.
  static ResolverSpec auth1(const std::string& id) {
    ResolverSpec spec;
    spec.id = id;
    spec.address = lab_->get("LAB_AUTH1");
    spec.port = lab_->auth_port();
    spec.recursion = false;
    spec.timeout = seconds(2);
    spec.tries = 1;
    return spec;
  }

  void add(const ResolverSpec& spec) {
    auto added = engine_->add_resolver(spec);
    EXPECT_TRUE(added) << spec.id << ": " << added.error().message;
  }

  // Queues a query; its answer lands in calls_[index].
  size_t ask(const std::string& resolver, const std::string& name, QType type = QType::kA) {
    const size_t index = calls_.size();
    calls_.emplace_back();
    inside_query_ = true;
    engine_->query(resolver, Question{name, type},
                   [this, index](const Answer& answer) { on_answer(index, answer); });
    inside_query_ = false;
    return index;
  }

  void on_answer(size_t index, const Answer& answer) {
    EXPECT_FALSE(inside_query_) << "the callback of query " << index << " ran inside query()";
    Call& call = calls_[index];
    ++call.count;
    EXPECT_EQ(call.count, 1) << "query " << index << " ended twice: " << describe(answer);
    if (call.count > 1) return;
    call.answer = answer;
    max_in_flight_seen_ = std::max(max_in_flight_seen_, engine_->in_flight());
    if (++ended_ == calls_.size()) loop_->stop();
    if (on_each_) on_each_(index);
  }

  // Runs the loop until every query asked so far has ended; fails after `deadline`.
  ::testing::AssertionResult run_all(milliseconds deadline = seconds(5)) {
    if (ended_ == calls_.size()) return ::testing::AssertionSuccess();
    bool expired = false;
    auto guard = loop_->make_timer([this, &expired] {
      expired = true;
      loop_->stop();
    });
    guard->start(deadline);
    loop_->run();
    guard.reset();
    if (expired) {
      return ::testing::AssertionFailure() << ended_ << " of " << calls_.size()
                                           << " queries ended within " << deadline.count() << " ms";
    }
    return ::testing::AssertionSuccess();
  }

  // Runs what the loop has due right now (deferred completions, a late duplicate), then
  // returns: posted work runs after the iteration's due timers.
  void settle() {
    loop_->post([this] { loop_->stop(); });
    loop_->run();
  }

  // Asks one question and runs the loop until it ended.
  // Asks a server that answers every query in the broken way `mode` says.
  Answer ask_broken(testing::HostileMode mode, int* answered) {
    testing::HostileDnsOptions options;
    options.mode = mode;
    testing::HostileDnsServer server(options);
    EXPECT_TRUE(server.ok()) << "cannot bind UDP and TCP on 127.0.0.1";
    ResolverSpec spec;
    spec.id = "broken";
    spec.address = server.address();
    spec.port = server.port();
    spec.timeout = seconds(2);
    spec.tries = 1;
    add(spec);
    Answer a = ask_one("broken", fqdn("host1"));
    *answered = server.udp_queries();
    return a;
  }

  Answer ask_one(const std::string& resolver, const std::string& name, QType type = QType::kA,
                 milliseconds deadline = seconds(5)) {
    const size_t index = ask(resolver, name, type);
    EXPECT_TRUE(run_all(deadline));
    return calls_[index].answer;
  }

  SystemClock clock_;
  CountingObserver observer_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<DnsEngine> engine_;
  std::deque<Call> calls_;
  size_t ended_ = 0;
  bool inside_query_ = false;
  size_t max_in_flight_seen_ = 0;
  std::function<void(size_t)> on_each_;  // runs after each first callback
};

// --- Outcome classes -----------------------------------------------------------------------

TEST_F(DnsEngineTest, AnswerWithRecordsIsNoError) {
  add(cache("fast", "LAB_FAST"));
  const Answer a = ask_one("fast", fqdn("host1"));
  EXPECT_EQ(outcome_of(a), "noerror") << describe(a);
  EXPECT_EQ(a.rcode, 0);
  ASSERT_EQ(a.records.size(), 1u) << describe(a);
  EXPECT_EQ(a.records[0].value, "192.0.2.1");
  EXPECT_LE(a.records[0].ttl, 5u);
  EXPECT_TRUE(a.recursion_available) << describe(a);
  EXPECT_FALSE(a.truncated);
  EXPECT_TRUE(a.cname_chain.empty());
  EXPECT_GT(a.latency.count(), 0);
  EXPECT_LT(a.latency, seconds(2));
  EXPECT_EQ(engine_->in_flight(), 0u);
  EXPECT_EQ(engine_->queued(), 0u);
}

TEST_F(DnsEngineTest, NameWithoutRecordsOfTheTypeIsNoData) {
  add(cache("fast", "LAB_FAST"));
  const Answer a = ask_one("fast", fqdn("host1"), QType::kAAAA);
  EXPECT_EQ(outcome_of(a), "nodata") << describe(a);
  EXPECT_EQ(a.rcode, 0);
  EXPECT_TRUE(a.records.empty());
  ASSERT_TRUE(a.soa.has_value()) << "the negative answer's SOA: " << describe(a);
  EXPECT_EQ(a.soa->zone, kZone);
}

TEST_F(DnsEngineTest, MissingNameIsNxDomainWithTheZonesSoa) {
  add(cache("fast", "LAB_FAST"));
  const Answer a = ask_one("fast", fqdn("nope"));
  EXPECT_EQ(outcome_of(a), "nxdomain") << describe(a);
  EXPECT_EQ(a.rcode, 3);
  EXPECT_TRUE(a.records.empty());
  ASSERT_TRUE(a.soa.has_value()) << describe(a);
  EXPECT_EQ(a.soa->zone, kZone);
  EXPECT_EQ(a.soa->mname, fqdn("ns1"));
  EXPECT_EQ(a.soa->serial, 100u);
}

TEST_F(DnsEngineTest, ServFailIsServFail) {
  add(cache("servfail", "LAB_SERVFAIL"));
  const Answer a = ask_one("servfail", fqdn("host1"));
  EXPECT_EQ(outcome_of(a), "servfail") << describe(a);
  EXPECT_EQ(a.rcode, 2);
  EXPECT_TRUE(a.records.empty());
}

TEST_F(DnsEngineTest, AuthoritativeAskedOutsideItsZoneRefuses) {
  add(auth1("auth1"));
  const Answer a = ask_one("auth1", "example.org");
  EXPECT_EQ(outcome_of(a), "refused") << describe(a);
  EXPECT_EQ(a.rcode, 5);
}

TEST_F(DnsEngineTest, SilentServerTimesOutAfterTheTimeout) {
  add(cache("drop", "LAB_DROP", milliseconds(300)));
  const Answer a = ask_one("drop", fqdn("host1"));
  EXPECT_EQ(outcome_of(a), "timeout") << describe(a);
  EXPECT_EQ(a.rcode, -1);
  EXPECT_FALSE(a.detail.empty());
  EXPECT_GE(a.latency, milliseconds(250)) << describe(a);
  EXPECT_LE(a.latency, seconds(2)) << describe(a);
}

TEST_F(DnsEngineTest, NothingListeningIsANetworkErrorAtOnce) {
  add(cache("dead", "LAB_DEAD"));
  const auto began = steady_clock::now();
  const Answer a = ask_one("dead", fqdn("host1"));
  const auto took = steady_clock::now() - began;
  EXPECT_EQ(outcome_of(a), "network") << describe(a);
  EXPECT_EQ(a.rcode, -1);
  EXPECT_NE(a.detail.find("refused"), std::string::npos) << describe(a);
  // Not the 2 s timeout: the ICMP port unreachable ends the query.
  EXPECT_LT(a.latency, milliseconds(500)) << describe(a);
  EXPECT_LT(took, milliseconds(500));
}

TEST_F(DnsEngineTest, TruncatedRecordIsMalformed) {
  int answered = 0;
  const Answer a = ask_broken(testing::HostileMode::kCutRecord, &answered);
  EXPECT_GE(answered, 1);
  EXPECT_EQ(outcome_of(a), "malformed") << describe(a);
  EXPECT_FALSE(a.detail.empty()) << describe(a);
  EXPECT_TRUE(a.records.empty());
  EXPECT_LT(a.latency, seconds(1)) << "answered at once, not timed out: " << describe(a);
}

TEST_F(DnsEngineTest, AddressOfTheWrongSizeIsMalformed) {
  int answered = 0;
  const Answer a = ask_broken(testing::HostileMode::kShortAddress, &answered);
  EXPECT_GE(answered, 1);
  EXPECT_EQ(outcome_of(a), "malformed") << describe(a);
  EXPECT_FALSE(a.detail.empty()) << describe(a);
  EXPECT_TRUE(a.records.empty());
}

// --- Records --------------------------------------------------------------------------------

TEST_F(DnsEngineTest, CnameIsFollowedToTheAddress) {
  add(cache("fast", "LAB_FAST"));
  const Answer a = ask_one("fast", fqdn("www"));
  EXPECT_EQ(outcome_of(a), "noerror") << describe(a);
  EXPECT_EQ(a.cname_chain, std::vector<std::string>{fqdn("fixed")});
  EXPECT_EQ(values(a), std::vector<std::string>{"192.0.2.10"});
}

TEST_F(DnsEngineTest, RecordTypesDecode) {
  add(cache("fast", "LAB_FAST"));
  const size_t txt = ask("fast", fqdn("txt"), QType::kTXT);
  const size_t ns = ask("fast", kZone, QType::kNS);
  const size_t v6 = ask("fast", fqdn("v6"), QType::kAAAA);
  ASSERT_TRUE(run_all());

  const Answer& t = calls_[txt].answer;
  EXPECT_EQ(outcome_of(t), "noerror") << describe(t);
  EXPECT_EQ(values(t), std::vector<std::string>{"hello"});

  const Answer& n = calls_[ns].answer;
  EXPECT_EQ(outcome_of(n), "noerror") << describe(n);
  EXPECT_EQ(values(n), (std::vector<std::string>{fqdn("ns1"), fqdn("ns2")}));

  const Answer& v = calls_[v6].answer;
  EXPECT_EQ(outcome_of(v), "noerror") << describe(v);
  EXPECT_EQ(values(v), std::vector<std::string>{"2001:db8::10"});
}

TEST_F(DnsEngineTest, SoaFromThePrimaryIsAuthoritative) {
  add(auth1("auth1"));
  const Answer a = ask_one("auth1", kZone, QType::kSOA);
  EXPECT_EQ(outcome_of(a), "noerror") << describe(a);
  EXPECT_TRUE(a.authoritative) << describe(a);
  ASSERT_TRUE(a.soa.has_value()) << describe(a);
  EXPECT_EQ(a.soa->zone, kZone);
  EXPECT_EQ(a.soa->mname, fqdn("ns1"));
  EXPECT_EQ(a.soa->rname, fqdn("hostmaster"));
  EXPECT_EQ(a.soa->serial, 100u);
  EXPECT_EQ(a.soa->ttl, 5u);
  ASSERT_EQ(a.records.size(), 1u);
}

// --- Transport ------------------------------------------------------------------------------

TEST_F(DnsEngineTest, TcpTransportAnswers) {
  ResolverSpec spec = auth1("auth1-tcp");
  spec.transport = Transport::kTcp;
  add(spec);
  const size_t soa = ask("auth1-tcp", kZone, QType::kSOA);
  const size_t fixed = ask("auth1-tcp", fqdn("fixed"));
  ASSERT_TRUE(run_all());
  const Answer& s = calls_[soa].answer;
  EXPECT_EQ(outcome_of(s), "noerror") << describe(s);
  EXPECT_TRUE(s.authoritative);
  ASSERT_TRUE(s.soa.has_value());
  EXPECT_EQ(s.soa->serial, 100u);
  const Answer& f = calls_[fixed].answer;
  EXPECT_EQ(outcome_of(f), "noerror") << describe(f);
  EXPECT_EQ(values(f), std::vector<std::string>{"192.0.2.10"});
}

// --- Pacing ---------------------------------------------------------------------------------

TEST_F(DnsEngineTest, InFlightCapHolds) {
  ResolverSpec spec = cache("fast", "LAB_FAST");
  spec.max_in_flight = 10;
  add(spec);
  constexpr int kQueries = 200;
  for (int i = 0; i < kQueries; ++i) ask("fast", fqdn("host" + std::to_string(1 + i % 9)));
  EXPECT_GT(engine_->queued(), 0u) << "queries beyond the cap wait in the engine";
  EXPECT_LE(engine_->in_flight(), 10u);
  EXPECT_EQ(engine_->queued() + engine_->in_flight(), static_cast<size_t>(kQueries));
  ASSERT_TRUE(run_all(seconds(10)));
  EXPECT_LE(max_in_flight_seen_, 10u);
  int noerror = 0;
  for (const Call& call : calls_) {
    if (call.answer.outcome == Outcome::kNoError &&
        values(call.answer) == std::vector<std::string>{"192.0.2.1"}) {
      ++noerror;
    } else {
      ADD_FAILURE() << describe(call.answer);
    }
  }
  EXPECT_EQ(noerror, kQueries);
  EXPECT_EQ(engine_->in_flight(), 0u);
  EXPECT_EQ(engine_->queued(), 0u);
}

// A hundred answers waiting at once on one socket, again and again (read in batches on Linux,
// resolvers/batched_io.h): each query still gets the answer to its own question. (Far more
// in flight on one socket overflows its default receive buffer, batches or not.)
TEST_F(DnsEngineTest, ManyAnswersAtOnceEachGoToTheirQuery) {
  ResolverSpec spec = auth1("auth1-many");
  spec.max_in_flight = 100;
  add(spec);
  struct Expected {
    std::string outcome;
    std::vector<std::string> values;
  };
  std::vector<Expected> expected;
  for (int i = 0; i < 600; ++i) {
    switch (i % 5) {
      case 0:
        ask("auth1-many", fqdn("host" + std::to_string(1 + i % 9)));
        expected.push_back({"noerror", {"192.0.2.1"}});
        break;
      case 1:
        ask("auth1-many", fqdn("fixed"));
        expected.push_back({"noerror", {"192.0.2.10"}});
        break;
      case 2:
        ask("auth1-many", fqdn("v6"), QType::kAAAA);
        expected.push_back({"noerror", {"2001:db8::10"}});
        break;
      case 3:
        ask("auth1-many", fqdn("missing" + std::to_string(i)));
        expected.push_back({"nxdomain", {}});
        break;
      default:
        ask("auth1-many", fqdn("myip"), QType::kTXT);
        expected.push_back({"noerror", {"198.51.100.7"}});
        break;
    }
  }
  ASSERT_TRUE(run_all(seconds(10)));
  for (size_t i = 0; i < calls_.size(); ++i) {
    const Answer& a = calls_[i].answer;
    EXPECT_EQ(outcome_of(a), expected[i].outcome) << "query " << i << ": " << describe(a);
    EXPECT_EQ(values(a), expected[i].values) << "query " << i << ": " << describe(a);
  }
}

// The engine writes its queries itself (resolvers/dns_message.h, build_query): their IDs
// must still be unpredictable to an off-path spoofer (RFC 5452), not a counter.
TEST_F(DnsEngineTest, QueryIdsAreRandom) {
  testing::HostileDnsServer server;
  ASSERT_TRUE(server.ok()) << "cannot bind UDP and TCP on 127.0.0.1";
  ResolverSpec spec;
  spec.id = "good";
  spec.address = server.address();
  spec.port = server.port();
  add(spec);
  constexpr int kQueries = 400;
  for (int i = 0; i < kQueries; ++i) ask("good", fqdn("host" + std::to_string(i)));
  ASSERT_TRUE(run_all(seconds(10)));
  for (const Call& call : calls_) EXPECT_EQ(outcome_of(call.answer), "noerror");
  const std::vector<uint16_t> ids = server.query_ids();
  ASSERT_EQ(ids.size(), static_cast<size_t>(kQueries));
  // 400 draws from 65,536 values: about one repeat is expected, ten would be no chance.
  const std::set<uint16_t> distinct(ids.begin(), ids.end());
  EXPECT_GE(distinct.size(), static_cast<size_t>(kQueries - 10));
  int steps = 0;  // consecutive IDs one apart, as a counter would make them
  int high = 0;   // IDs with the top bit set: about half
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0 && static_cast<uint16_t>(ids[i] - ids[i - 1]) == 1) ++steps;
    if (ids[i] & 0x8000) ++high;
  }
  EXPECT_LE(steps, 3);
  EXPECT_GT(high, kQueries / 4);
  EXPECT_LT(high, kQueries * 3 / 4);
}

TEST_F(DnsEngineTest, RateLimitPacesQueries) {
  constexpr int kQueries = 30;
  // Unlimited first (this also warms the cache), then the same through a 20 qps bucket of 5.
  add(cache("free", "LAB_FAST"));
  ResolverSpec paced = cache("paced", "LAB_FAST");
  paced.rate_limit = 20;
  paced.burst = 5;
  add(paced);

  auto began = steady_clock::now();
  for (int i = 0; i < kQueries; ++i) ask("free", fqdn("host" + std::to_string(1 + i % 9)));
  ASSERT_TRUE(run_all());
  const auto free_took = steady_clock::now() - began;

  began = steady_clock::now();
  for (int i = 0; i < kQueries; ++i) ask("paced", fqdn("host" + std::to_string(1 + i % 9)));
  EXPECT_EQ(engine_->in_flight(), 5u) << "the burst leaves at once";
  EXPECT_EQ(engine_->queued(), static_cast<size_t>(kQueries - 5));
  ASSERT_TRUE(run_all());
  const auto paced_took = steady_clock::now() - began;

  for (const Call& call : calls_)
    EXPECT_EQ(outcome_of(call.answer), "noerror") << describe(call.answer);
  // (30 - 5) tokens at 20 per second: 1.25 s at least.
  EXPECT_GE(paced_took, milliseconds(1200))
      << duration_cast<milliseconds>(paced_took).count() << " ms";
  EXPECT_LT(paced_took, milliseconds(2500))
      << duration_cast<milliseconds>(paced_took).count() << " ms";
  EXPECT_LT(free_took, milliseconds(600))
      << duration_cast<milliseconds>(free_took).count() << " ms";
}

// --- Observer -------------------------------------------------------------------------------

TEST_F(DnsEngineTest, ObserverSeesEachQueryOnceWithItsOutcome) {
  add(cache("fast", "LAB_FAST"));
  add(auth1("auth1"));
  add(cache("dead", "LAB_DEAD"));
  ask("fast", fqdn("host1"));
  ask("fast", fqdn("host2"));
  ask("fast", fqdn("host1"), QType::kAAAA);
  ask("fast", fqdn("nope"));
  ask("auth1", kZone, QType::kSOA);
  ask("auth1", "example.org");
  ask("dead", fqdn("host1"));
  ASSERT_TRUE(run_all());
  const std::map<std::string, std::map<std::string, int>> expected = {
      {"fast", {{"noerror", 2}, {"nodata", 1}, {"nxdomain", 1}}},
      {"auth1", {{"noerror", 1}, {"refused", 1}}},
      {"dead", {{"network", 1}}},
  };
  EXPECT_EQ(observer_.counts, expected);
  EXPECT_EQ(observer_.total, 7);
}

// --- Removal --------------------------------------------------------------------------------

TEST_F(DnsEngineTest, RemovingAResolverCancelsItsQueriesOnce) {
  // drop never answers: 3 queries stay in flight, 5 wait behind the cap.
  ResolverSpec spec = cache("drop", "LAB_DROP", seconds(5));
  spec.max_in_flight = 3;
  add(spec);
  add(cache("fast", "LAB_FAST"));
  std::vector<size_t> doomed;
  for (int i = 0; i < 8; ++i) doomed.push_back(ask("drop", fqdn("host" + std::to_string(1 + i))));
  const size_t bystander = ask("fast", fqdn("host1"));
  EXPECT_EQ(engine_->in_flight(), 4u);
  EXPECT_EQ(engine_->queued(), 5u);

  // Remove once the bystander answered: the drop queries are on the wire by then.
  on_each_ = [&](size_t index) {
    if (index != bystander) return;
    EXPECT_TRUE(engine_->has_resolver("drop"));
    engine_->remove_resolver("drop");
    EXPECT_FALSE(engine_->has_resolver("drop"));
  };
  const auto began = steady_clock::now();
  ASSERT_TRUE(run_all(seconds(3)));
  EXPECT_LT(steady_clock::now() - began, seconds(2)) << "cancelled, not timed out";
  settle();  // a second end of any query would show up now

  EXPECT_EQ(outcome_of(calls_[bystander].answer), "noerror");
  for (size_t index : doomed) {
    const Call& call = calls_[index];
    EXPECT_EQ(call.count, 1) << "query " << index;
    EXPECT_EQ(outcome_of(call.answer), "network") << describe(call.answer);
    EXPECT_EQ(call.answer.detail, "cancelled") << describe(call.answer);
  }
  EXPECT_EQ(engine_->in_flight(), 0u);
  EXPECT_EQ(engine_->queued(), 0u);
  // Every query that ended is counted once, cancelled ones included.
  EXPECT_EQ(observer_.total, 9) << "observer calls";
  EXPECT_EQ(observer_.counts["drop"]["network"], 8);
}

TEST_F(DnsEngineTest, RemovingBeforeTheLoopRunsCancelsToo) {
  ResolverSpec spec = cache("fast", "LAB_FAST");
  spec.max_in_flight = 2;
  add(spec);
  for (int i = 0; i < 5; ++i) ask("fast", fqdn("host1"));
  engine_->remove_resolver("fast");
  EXPECT_EQ(ended_, 0u) << "callbacks never run inside remove_resolver() either";
  ASSERT_TRUE(run_all(seconds(2)));
  settle();
  for (const Call& call : calls_) {
    EXPECT_EQ(call.count, 1);
    EXPECT_EQ(outcome_of(call.answer), "network") << describe(call.answer);
    EXPECT_EQ(call.answer.detail, "cancelled");
  }
  // An unknown resolver ends with a network error too, later.
  const size_t unknown = ask("fast", fqdn("host1"));
  EXPECT_EQ(ended_, 5u);
  ASSERT_TRUE(run_all(seconds(2)));
  EXPECT_EQ(outcome_of(calls_[unknown].answer), "network");
}

TEST_F(DnsEngineTest, ResolverAddedAgainAfterRemovalAnswers) {
  // A config reload: a resolver goes away with a query in flight, and comes back.
  add(cache("r", "LAB_DROP", seconds(5)));
  ask("r", fqdn("host1"));
  loop_->post([this] { engine_->remove_resolver("r"); });
  ASSERT_TRUE(run_all(seconds(2)));
  settle();  // the removed channel is released
  EXPECT_EQ(outcome_of(calls_[0].answer), "network");

  add(cache("r", "LAB_FAST"));
  add(cache("other", "LAB_FAST"));
  const size_t again = ask("r", fqdn("host2"));
  const size_t other = ask("other", fqdn("host3"));
  ASSERT_TRUE(run_all(seconds(3)));
  EXPECT_EQ(outcome_of(calls_[again].answer), "noerror") << describe(calls_[again].answer);
  EXPECT_EQ(outcome_of(calls_[other].answer), "noerror") << describe(calls_[other].answer);
}

// --- Parallelism ----------------------------------------------------------------------------

TEST_F(DnsEngineTest, ResolversAreAskedInParallel) {
  const std::map<std::string, std::string> keys = {
      {"fast", "LAB_FAST"},   {"slow15", "LAB_SLOW15"},     {"slow30", "LAB_SLOW30"},
      {"split", "LAB_SPLIT"}, {"servfail", "LAB_SERVFAIL"}, {"drop", "LAB_DROP"}};
  std::map<std::string, size_t> index;
  for (const auto& [id, key] : keys) add(cache(id, key, seconds(1)));
  const auto began = steady_clock::now();
  for (const auto& [id, key] : keys) index[id] = ask(id, fqdn("host4"));
  ASSERT_TRUE(run_all(seconds(4)));
  const auto took = steady_clock::now() - began;

  EXPECT_LT(took, milliseconds(1800)) << duration_cast<milliseconds>(took).count() << " ms";
  const Answer& drop = calls_[index["drop"]].answer;
  EXPECT_EQ(outcome_of(drop), "timeout") << describe(drop);
  EXPECT_GE(drop.latency, milliseconds(900)) << describe(drop);
  for (const char* id : {"fast", "slow15", "slow30"}) {
    const Answer& a = calls_[index[id]].answer;
    EXPECT_EQ(values(a), std::vector<std::string>{"192.0.2.1"}) << id << ": " << describe(a);
  }
  const Answer& split = calls_[index["split"]].answer;
  EXPECT_EQ(values(split), std::vector<std::string>{lab_->get("LAB_FOREIGN")}) << describe(split);
  const Answer& servfail = calls_[index["servfail"]].answer;
  EXPECT_EQ(outcome_of(servfail), "servfail") << describe(servfail);
}

}  // namespace
}  // namespace ddnswatch
