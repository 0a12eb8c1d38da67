// A provider that is down for a long time while an update is pending: the daemon detects a new
// address, the provider answers 503 (a fake PowerDNS API) or nothing listens (the lab's BIND,
// stopped), and the daemon retries with backoff, says so in the log, /status and the metrics,
// keeps the pending update in the state file (a restart in the middle of the outage still
// carries it out) and keeps monitoring; when the provider is back the record is written
// exactly once.
//
// Time is scaled down: error_interval 1s and max_backoff 3s stand for the defaults of 1m and
// 30m, so an outage of ~15 s with six failed attempts, the last ones at the capped backoff,
// plays the part of an outage of many minutes (with the defaults, six attempts take about
// two hours); what matters is the number of failed attempts and that the backoff reached its
// cap, not the wall-clock time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/atomic_file.h"
#include "support/fake_powerdns.h"
#include "support/fault_fixture.h"
#include "support/http_get.h"
#include "support/process.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

// Failed attempts before the provider comes back: 1 + 2 + 3 + 3 + 3 s of backoff.
constexpr int kAttemptsInOutage = 6;
// The longest wait between attempts: max_backoff plus its 20 % jitter, plus slack for a
// loaded machine.
constexpr auto kRecoveryBound = seconds(10);

// At most one attempt per error_interval less its jitter (0.8 s), plus the first one.
int most_attempts_in(std::chrono::steady_clock::duration outage) {
  return 1 + static_cast<int>(std::chrono::duration_cast<milliseconds>(outage).count() / 800);
}

class ProviderOutageTest : public testing::FaultFixture {
 protected:
  void SetUp() override {
    FaultFixture::SetUp();
    detection_fails();
  }

  // Short backoff settings: see the top of the file.
  json outage_config(const json& record) const {
    return updater_config(record, {{"min_interval", "1s"},
                                   {"cooldown", "0s"},
                                   {"error_interval", "1s"},
                                   {"max_backoff", "3s"}});
  }

  double updates(const std::string& record, const std::string& provider,
                 const std::string& outcome) const {
    return value(metrics(), "ddnswatch_record_updates_total",
                 {{"record", record}, {"provider", provider}, {"outcome", outcome}});
  }

  // What the state file says of `record` now, read without StateStore::load(), which would
  // remove a temp file the daemon may be writing.
  json saved_record(const std::string& record) const {
    auto text = read_file(dir_.path() / "state" / "state.json");
    if (!text) return json::object();
    json doc = json::parse(*text, nullptr, false);
    if (!doc.is_object()) return json::object();
    return doc.value("/data/updater/records"_json_pointer / record, json::object());
  }
};

TEST_F(ProviderOutageTest, APowerDnsOutageWithARestartEndsInExactlyOneWrite) {
  constexpr char kZone[] = "outage.test";
  constexpr char kHost[] = "home.outage.test";
  constexpr char kKey[] = "outage-test-api-key";
  const std::string record = std::string(kHost) + "/A";
  testing::FakePowerDns pdns(kZone, kHost, kKey);
  const json cfg = outage_config(
      {{"name", kHost},
       {"type", "A"},
       {"provider",
        {{"kind", "powerdns"}, {"zone", kZone}, {"url", pdns.url()}, {"api_key", kKey}}}});

  detect("192.0.2.20");
  auto daemon = start(cfg);
  ASSERT_TRUE(testing::wait_until([&] { return record_status().value("state", "") == "in_sync"; },
                                  seconds(15)))
      << record_status().dump() << daemon->err();
  ASSERT_EQ(pdns.writes_of("192.0.2.20"), 1);

  // The provider goes down, then the address changes.
  pdns.set_down(true);
  const auto outage_began = std::chrono::steady_clock::now();
  detect("192.0.2.21", daemon.get());
  ASSERT_TRUE(
      testing::wait_until([&] { return updates(record, "powerdns", "failed") >= 2; }, seconds(10)))
      << metrics() << daemon->err();
  // The pending update is on disk before it succeeded anywhere.
  json saved = saved_record(record);
  EXPECT_EQ(saved.value("desired", json()), json({"192.0.2.21"})) << saved.dump();
  EXPECT_EQ(saved.value("held", json()), json({"192.0.2.20"})) << saved.dump();
  EXPECT_GE(saved.value("failures", 0), 1) << saved.dump();
  // Between two attempts (not "updating" during one): failing, why, and when it tries next.
  json rec;
  EXPECT_TRUE(testing::wait_until(
      [&] {
        rec = record_status();
        return rec.value("state", "") == "failing";
      },
      seconds(10)))
      << rec.dump();
  EXPECT_THAT(rec.value("message", ""), HasSubstr("503")) << rec.dump();
  EXPECT_TRUE(rec["next_attempt"].is_string()) << rec.dump();
  EXPECT_EQ(value(metrics(), "ddnswatch_record_in_sync", {{"record", record}}), 0);
  EXPECT_THAT(daemon->err(), ::testing::ContainsRegex(std::string(kHost) +
                                                      "/A: update at powerdns failed: .*503.*; "
                                                      "retrying in [0-9]+ s"));
  expect_monitoring_goes_on();

  // A restart in the middle of the outage, with detection failing from now on: only the state
  // file knows what is pending.
  detection_fails();
  daemon->signal(SIGTERM);
  ASSERT_TRUE(daemon->wait(seconds(10)).has_value()) << daemon->err();
  const int refused_before_restart = pdns.refused_while_down();
  daemon = start(cfg);
  ASSERT_TRUE(testing::wait_until(
      [&] { return pdns.refused_while_down() >= refused_before_restart + 2; }, seconds(15)))
      << "the restarted daemon must keep retrying\n"
      << daemon->err();
  EXPECT_EQ(record_status().value("desired", json()), json({"192.0.2.21"}));
  expect_monitoring_goes_on();
  // Let the outage last until the backoff has reached its cap a few times.
  ASSERT_TRUE(testing::wait_until([&] { return pdns.refused_while_down() >= kAttemptsInOutage; },
                                  seconds(30)))
      << "the daemon must keep retrying during the outage\n"
      << daemon->err();
  const auto outage = std::chrono::steady_clock::now() - outage_began;
  const int attempts_in_outage = pdns.refused_while_down();
  EXPECT_LE(attempts_in_outage, most_attempts_in(outage))
      << "backing off, not hammering the provider";
  EXPECT_EQ(pdns.writes_of("192.0.2.21"), 0);

  pdns.set_down(false);
  const auto back = std::chrono::steady_clock::now();
  ASSERT_TRUE(testing::wait_until(
      [&] {
        json r = record_status();
        return r.value("state", "") == "in_sync" && r["held"] == json({"192.0.2.21"});
      },
      kRecoveryBound))
      << record_status().dump() << daemon->err();
  const auto recovered =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - back);
  EXPECT_EQ(pdns.held(), std::vector<std::string>{"192.0.2.21"});
  EXPECT_EQ(updates(record, "powerdns", "updated"), 1);
  EXPECT_EQ(value(metrics(), "ddnswatch_record_in_sync", {{"record", record}}), 1);
  EXPECT_THAT(daemon->err(), HasSubstr(std::string(kHost) +
                                       "/A: updated at powerdns to 192.0.2.21 (was 192.0.2.20)"));
  // A few more seconds of checks and retries would show a second write: there is none.
  expect_monitoring_goes_on();
  EXPECT_EQ(pdns.writes_of("192.0.2.21"), 1) << "written exactly once";
  EXPECT_EQ(pdns.total_writes(), 2);
  EXPECT_EQ(saved_record(record).value("held", json()), json({"192.0.2.21"}));
  RecordProperty("attempts_during_outage", std::to_string(attempts_in_outage));
  RecordProperty("outage_ms",
                 std::to_string(std::chrono::duration_cast<milliseconds>(outage).count()));
  RecordProperty("recovered_ms", std::to_string(recovered.count()));
}

TEST_F(ProviderOutageTest, AnRfc2136UpdateWaitsForBindToComeBackAndBumpsTheSerialOnce) {
  const std::string host = "host7.ddnswatch.test";
  const std::string record = host + "/A";
  json cfg = outage_config(lab_->rfc2136_record(host));
  cfg["watch"] = json::array();  // the caches depend on the server that goes away
  auto soa_serial = [&] {
    auto r = lab_->dig({"@127.0.0.1", "-p", std::to_string(lab_->auth_port()), "ddnswatch.test",
                        "SOA", "+short", "+norecurse", "+tries=1", "+time=1"});
    std::istringstream in(r.out);
    std::string mname, rname, serial;
    in >> mname >> rname >> serial;
    return serial;
  };

  detect("192.0.2.70");
  auto daemon = start(cfg);
  ASSERT_TRUE(testing::wait_until([&] { return record_status().value("state", "") == "in_sync"; },
                                  seconds(15)))
      << record_status().dump() << daemon->err();
  const std::string serial_before = soa_serial();
  ASSERT_FALSE(serial_before.empty());

  // BIND goes away: nothing listens on its address and port.
  ASSERT_TRUE(lab_->pause("auth1")) << lab_->last_error();
  const auto outage_began = std::chrono::steady_clock::now();
  detect("192.0.2.71", daemon.get());
  ASSERT_TRUE(
      testing::wait_until([&] { return updates(record, "rfc2136", "failed") >= 2; }, seconds(10)))
      << metrics() << daemon->err();
  EXPECT_EQ(saved_record(record).value("desired", json()), json({"192.0.2.71"}));
  EXPECT_TRUE(testing::wait_until([&] { return record_status().value("state", "") == "failing"; },
                                  seconds(10)))
      << record_status().dump();
  EXPECT_THAT(daemon->err(),
              ::testing::ContainsRegex(record + ": update at rfc2136 failed: .*; retrying in"));
  ASSERT_TRUE(testing::wait_until(
      [&] { return updates(record, "rfc2136", "failed") >= kAttemptsInOutage; }, seconds(30)))
      << "the daemon must keep retrying during the outage\n"
      << daemon->err();
  const auto outage = std::chrono::steady_clock::now() - outage_began;
  const double failed = updates(record, "rfc2136", "failed");
  EXPECT_LE(failed, most_attempts_in(outage)) << "backing off, not hammering the server";

  ASSERT_TRUE(lab_->resume("auth1")) << lab_->last_error();
  const auto back = std::chrono::steady_clock::now();
  ASSERT_TRUE(testing::wait_until(
      [&] {
        json r = record_status();
        return r.value("state", "") == "in_sync" && r["held"] == json({"192.0.2.71"});
      },
      kRecoveryBound))
      << record_status().dump() << daemon->err();
  const auto recovered =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - back);
  auto answer = lab_->dig(
      {"@127.0.0.1", "-p", std::to_string(lab_->auth_port()), host, "A", "+short", "+norecurse"});
  EXPECT_EQ(answer.out, "192.0.2.71\n");
  EXPECT_EQ(updates(record, "rfc2136", "updated"), 2);  // the first address, then this one
  // The serial moved by one: one UPDATE reached BIND, however many were tried.
  EXPECT_EQ(soa_serial(), std::to_string(std::stoul(serial_before) + 1));
  RecordProperty("failed_attempts", std::to_string(static_cast<int>(failed)));
  RecordProperty("outage_ms",
                 std::to_string(std::chrono::duration_cast<milliseconds>(outage).count()));
  RecordProperty("recovered_ms", std::to_string(recovered.count()));
}

}  // namespace
}  // namespace ddnswatch
