// The DNS lab itself: each server behaves the way the propagation monitor tests rely on
// (answers, foreign answers, SERVFAIL, silence, refused, SOA serials, dynamic updates).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/lab_fixture.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

// dig's exit code when no server answered (timeout or connection refused).
constexpr int kDigNoServer = 9;

struct Answer {
  int code = -1;
  std::string status;  // NOERROR, SERVFAIL, ...
  std::string flags;   // "qr aa", ...
  std::vector<std::string> rdata;
  milliseconds took{0};
  std::string raw;

  bool has_flag(const std::string& flag) const {
    std::istringstream in(flags);
    std::string f;
    while (in >> f) {
      if (f == flag) return true;
    }
    return false;
  }
  // The serial of the first SOA in the answer, or -1.
  long serial() const {
    for (const auto& r : rdata) {
      std::istringstream in(r);
      std::string mname, rname;
      long serial = -1;
      if (in >> mname >> rname >> serial) return serial;
    }
    return -1;
  }
};

class LabTest : public testing::LabFixture {
 protected:
  // One query, one try: what a monitor probe sees.
  static Answer query(const std::string& server, uint16_t port, const std::string& name,
                      const std::string& type, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"+tries=1", "+time=1",    "+noall", "+comments",
                                     "+answer",  "@" + server, "-p",     std::to_string(port),
                                     name,       type};
    args.insert(args.end(), extra.begin(), extra.end());
    auto began = steady_clock::now();
    testing::RunResult r = lab_->dig(args);
    Answer a;
    a.took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - began);
    a.code = r.code;
    a.raw = r.out + r.err;
    std::smatch m;
    if (std::regex_search(r.out, m, std::regex("status: ([A-Z]+)"))) a.status = m[1];
    if (std::regex_search(r.out, m, std::regex(";; flags: ([a-z ]*);"))) a.flags = m[1];
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == ';') continue;
      std::istringstream fields(line);
      std::string owner, ttl, klass, rtype, rest;
      fields >> owner >> ttl >> klass >> rtype;
      std::getline(fields >> std::ws, rest);
      a.rdata.push_back(rest);
    }
    return a;
  }
  static Answer cache(const std::string& key, const std::string& name, const std::string& type,
                      std::vector<std::string> extra = {}) {
    return query(lab_->get(key), lab_->cache_port(), name, type, std::move(extra));
  }
  static Answer auth(const std::string& key, const std::string& name, const std::string& type) {
    return query(lab_->get(key), lab_->auth_port(), name, type, {"+norec"});
  }
};

TEST_F(LabTest, EnvironmentNamesEveryServer) {
  EXPECT_EQ(lab_->get("LAB_ZONE"), "ddnswatch.test");
  EXPECT_NE(lab_->auth_port(), 0);
  EXPECT_NE(lab_->cache_port(), 0);
  for (const char* key : {"LAB_AUTH1", "LAB_AUTH2", "LAB_FAST", "LAB_SLOW15", "LAB_SLOW30",
                          "LAB_SPLIT", "LAB_SERVFAIL", "LAB_DROP", "LAB_DEAD", "LAB_FOREIGN",
                          "LAB_KEY_NAME", "LAB_KEY_ALGORITHM", "LAB_KEY_SECRET"}) {
    EXPECT_NE(lab_->get(key), "") << key;
  }
  EXPECT_TRUE(std::filesystem::exists(lab_->get("LAB_KEY_FILE")));
}

TEST_F(LabTest, FastCacheAnswersFromTheZone) {
  Answer a = cache("LAB_FAST", "host1.ddnswatch.test", "A");
  EXPECT_EQ(a.status, "NOERROR") << a.raw;
  EXPECT_EQ(a.rdata, std::vector<std::string>{"192.0.2.1"}) << a.raw;
}

TEST_F(LabTest, SplitCacheAnswersTheForeignAddress) {
  Answer a = cache("LAB_SPLIT", "host1.ddnswatch.test", "A");
  EXPECT_EQ(a.status, "NOERROR") << a.raw;
  EXPECT_EQ(a.rdata, std::vector<std::string>{lab_->get("LAB_FOREIGN")}) << a.raw;
}

TEST_F(LabTest, ServfailCacheAnswersServfailQuickly) {
  // dig may wait longer than the limit, so a slow SERVFAIL fails on time, not on silence.
  Answer a = cache("LAB_SERVFAIL", "host1.ddnswatch.test", "A", {"+time=5"});
  EXPECT_EQ(a.status, "SERVFAIL") << a.raw;
  EXPECT_LT(a.took, seconds(3));
}

TEST_F(LabTest, DropCacheNeverAnswers) {
  Answer a = cache("LAB_DROP", "host1.ddnswatch.test", "A");
  EXPECT_EQ(a.code, kDigNoServer) << a.raw;
  EXPECT_EQ(a.status, "") << a.raw;
}

TEST_F(LabTest, DeadAddressNeverAnswers) {
  Answer a = cache("LAB_DEAD", "host1.ddnswatch.test", "A");
  EXPECT_EQ(a.code, kDigNoServer) << a.raw;
  EXPECT_EQ(a.status, "") << a.raw;
}

// What the soak and the fault tests do to a resolver: `lab.sh pause` stops it, `lab.sh resume`
// brings it back on the same address and port, and it answers again when `resume` returns.
TEST_F(LabTest, PauseStopsACacheAndResumeBringsItBack) {
  ASSERT_TRUE(lab_->pause("slow15")) << lab_->last_error();
  Answer gone = cache("LAB_SLOW15", "host2.ddnswatch.test", "A");
  EXPECT_EQ(gone.code, kDigNoServer) << gone.raw;
  EXPECT_FALSE(lab_->pause("slow15")) << "it is already down";
  ASSERT_TRUE(lab_->resume("slow15")) << lab_->last_error();
  Answer back = cache("LAB_SLOW15", "host2.ddnswatch.test", "A");
  EXPECT_EQ(back.status, "NOERROR") << back.raw;
  EXPECT_EQ(back.rdata, std::vector<std::string>{"192.0.2.1"}) << back.raw;
}

// One test owns the update, so the serials it checks hold whatever order the tests run in.
TEST_F(LabTest, AuthoritativesHaveOwnSerialsAndOnlyAuth1TakesUpdates) {
  Answer soa1 = auth("LAB_AUTH1", "ddnswatch.test", "SOA");
  EXPECT_EQ(soa1.serial(), 100) << soa1.raw;
  EXPECT_TRUE(soa1.has_flag("aa")) << soa1.raw;
  Answer soa2 = auth("LAB_AUTH2", "ddnswatch.test", "SOA");
  EXPECT_EQ(soa2.serial(), 90) << soa2.raw;
  EXPECT_TRUE(soa2.has_flag("aa")) << soa2.raw;

  ASSERT_TRUE(lab_->update("host2.ddnswatch.test", "A", "192.0.2.99")) << lab_->last_error();

  Answer host2;
  EXPECT_TRUE(testing::wait_until(
      [&] {
        host2 = auth("LAB_AUTH1", "host2.ddnswatch.test", "A");
        return host2.rdata == std::vector<std::string>{"192.0.2.99"};
      },
      seconds(3)))
      << host2.raw;
  EXPECT_TRUE(host2.has_flag("aa")) << host2.raw;
  soa1 = auth("LAB_AUTH1", "ddnswatch.test", "SOA");
  EXPECT_EQ(soa1.serial(), 101) << soa1.raw;

  soa2 = auth("LAB_AUTH2", "ddnswatch.test", "SOA");
  EXPECT_EQ(soa2.serial(), 90) << soa2.raw;
  Answer old = auth("LAB_AUTH2", "host2.ddnswatch.test", "A");
  EXPECT_EQ(old.rdata, std::vector<std::string>{"192.0.2.1"}) << old.raw;
}

}  // namespace
}  // namespace ddnswatch
