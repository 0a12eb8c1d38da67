// The alidns provider against a fake Alibaba Cloud DNS on loopback, over HTTPS with a CA made
// at run time. The fake checks what the real API checks: the RPC signature (recomputed here
// from the documented algorithm, from the query as received), the AccessKey ID, the common
// parameters, a timestamp within 15 minutes of its clock, nonces never reused, the parameters
// each action needs; it keeps records and answers in Alibaba's documented shapes, errors
// included ({RequestId, HostId, Code, Message, Recommend}), with a Date header.
#include "providers/alidns.h"

#include <arpa/inet.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "support/fake_api.h"
#include "support/provider_harness.h"
#include "support/receiver.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using providers::Outcome;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::contains;
using testing::describe;
using testing::desired;

constexpr char kZone[] = "example.com";
constexpr char kKeyId[] = "LTAI5tTestKeyId";
constexpr char kSecret[] = "aliSecretNeverShown42";

bool is_address(const std::string& type, const std::string& value) {
  unsigned char raw[16];
  return inet_pton(type == "AAAA" ? AF_INET6 : AF_INET, value.c_str(), raw) == 1;
}

/// A stateful Alibaba Cloud DNS for one account holding the zone example.com.
class FakeAlidns {
 public:
  struct Record {
    std::string id;
    std::string rr;
    std::string type;
    std::string value;
    int ttl = 600;
    std::string line = "default";
  };

  exporters::HttpResponse handle(const exporters::HttpRequest& req) {
    std::lock_guard lock(mutex_);
    if (req.method != "GET" || req.path != "/") {
      return error(404, "InvalidApi.NotFound", "Specified api is not found.");
    }
    std::map<std::string, std::string> p;
    auto pairs = testing::query_pairs(req.query);
    if (!pairs) return error(400, "InvalidParameter", "The query string is malformed.");
    for (auto& [name, value] : *pairs) {
      if (!p.emplace(name, value).second) {
        return error(400, "InvalidParameter", "The query string is malformed.");
      }
    }
    for (const char* required : {"Action", "Format", "Version", "AccessKeyId", "SignatureMethod",
                                 "SignatureVersion", "SignatureNonce", "Timestamp", "Signature"}) {
      if (!p.count(required)) {
        return error(400, fmt::format("Missing{}", required),
                     fmt::format("{} is mandatory for this action.", required));
      }
    }
    if (p["Format"] != "JSON" || p["Version"] != "2015-01-09" ||
        p["SignatureMethod"] != "HMAC-SHA1" || p["SignatureVersion"] != "1.0") {
      return error(400, "InvalidParameter", "Format, Version or signature method not valid.");
    }
    if (p["AccessKeyId"] != kKeyId) {
      return error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    }
    std::tm tm{};
    const char* end = strptime(p["Timestamp"].c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == nullptr || *end != '\0') {
      return error(400, "InvalidTimeStamp.Format",
                   "Specified time stamp or date value is not well formatted.");
    }
    const auto sent = std::chrono::system_clock::from_time_t(timegm(&tm));
    if (std::chrono::abs(std::chrono::system_clock::now() - sent) > minutes(15)) {
      return error(400, "InvalidTimeStamp.Expired",
                   "Specified time stamp or date value is expired.");
    }
    // The documented algorithm, from the parameters as received.
    std::string canonical;
    for (const auto& [name, value] : p) {  // std::map: sorted by name
      if (name == "Signature") continue;
      canonical +=
          (canonical.empty() ? "" : "&") + percent_encode(name) + "=" + percent_encode(value);
    }
    const std::string expected = base64_encode(
        hmac_sha1(std::string(kSecret) + "&", "GET&%2F&" + percent_encode(canonical)));
    if (!equal_constant_time(expected, p["Signature"])) {
      return error(400, "SignatureDoesNotMatch",
                   "Specified signature is not matched with our calculation. server string to "
                   "sign is:GET&%2F&" +
                       percent_encode(canonical));
    }
    if (!nonces_.insert(p["SignatureNonce"]).second) {
      return error(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    }
    actions_.push_back(p["Action"]);
    return act(p);
  }

  void add(Record r) {
    std::lock_guard lock(mutex_);
    r.id = std::to_string(next_id_++);
    records_.push_back(std::move(r));
  }
  std::vector<Record> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }
  /// The actions of the requests that passed authentication, in order.
  std::vector<std::string> actions() const {
    std::lock_guard lock(mutex_);
    return actions_;
  }
  std::vector<std::string> values(const std::string& rr, const std::string& type) const {
    std::vector<std::string> out;
    for (const auto& r : records()) {
      if (r.rr == rr && r.type == type) out.push_back(r.value);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static exporters::HttpResponse error(int status, const std::string& code,
                                       const std::string& message) {
    json body = {{"RequestId", "6D7DF1B4-6A5C-4A37-A4E4-7C1D2C3E4F50"},
                 {"HostId", "alidns.aliyuncs.com"},
                 {"Code", code},
                 {"Message", message},
                 {"Recommend", "https://api.aliyun.com/troubleshoot?q=" + code}};
    return answer(status, body);
  }

  static exporters::HttpResponse answer(int status, const json& body) {
    return exporters::HttpResponse{
        status, "application/json;charset=utf-8", body.dump(), {{"Date", testing::http_date()}}};
  }

 private:
  exporters::HttpResponse act(std::map<std::string, std::string>& p) {
    const std::string& action = p["Action"];
    auto need = [&](std::initializer_list<const char*> names) -> std::optional<std::string> {
      for (const char* n : names) {
        if (!p.count(n) || p[n].empty()) return std::string(n);
      }
      return std::nullopt;
    };
    auto missing = [&](const std::string& n) {
      return error(400, "Missing" + n, n + " is mandatory for this action.");
    };
    auto ok = [](const json& extra) {
      json body = {{"RequestId", "536E9CAD-DB30-4647-AC87-AA5CC38C5382"}};
      body.update(extra);
      return answer(200, body);
    };
    auto find = [&](const std::string& id) {
      return std::find_if(records_.begin(), records_.end(),
                          [&](const Record& r) { return r.id == id; });
    };
    auto ttl_of = [&](int fallback) { return p.count("TTL") ? std::stoi(p["TTL"]) : fallback; };
    if (action == "DescribeSubDomainRecords") {
      if (auto n = need({"SubDomain"})) return missing(*n);
      if (p.count("DomainName") && p["DomainName"] != kZone) {
        return error(400, "InvalidDomainName.NoExist", "The specified domain name does not exist.");
      }
      if (p.count("PageSize") && std::stoi(p["PageSize"]) > 500) {
        return error(400, "InvalidPageSize", "PageSize is out of range.");
      }
      json list = json::array();
      for (const auto& r : records_) {
        const std::string fqdn = r.rr == "@" ? kZone : r.rr + "." + kZone;
        if (fqdn != p["SubDomain"]) continue;
        if (p.count("Type") && p["Type"] != r.type) continue;
        list.push_back({{"DomainName", kZone},
                        {"RecordId", r.id},
                        {"RR", r.rr},
                        {"Type", r.type},
                        {"Value", r.value},
                        {"TTL", r.ttl},
                        {"Line", r.line},
                        {"Status", "ENABLE"},
                        {"Locked", false},
                        {"Weight", 1}});
      }
      return ok({{"TotalCount", list.size()},
                 {"PageNumber", 1},
                 {"PageSize", 500},
                 {"DomainRecords", {{"Record", list}}}});
    }
    if (action == "AddDomainRecord") {
      if (auto n = need({"DomainName", "RR", "Type", "Value"})) return missing(*n);
      if (p["DomainName"] != kZone) {
        return error(400, "InvalidDomainName.NoExist", "The specified domain name does not exist.");
      }
      if (!is_address(p["Type"], p["Value"])) {
        return error(400, "InvalidRecordValue", "The record value is invalid.");
      }
      for (const auto& r : records_) {
        if (r.rr == p["RR"] && r.type == p["Type"] && r.value == p["Value"]) {
          return error(400, "DomainRecordDuplicate", "The DNS record already exists.");
        }
      }
      Record r{std::to_string(next_id_++), p["RR"], p["Type"], p["Value"], ttl_of(600)};
      records_.push_back(r);
      return ok({{"RecordId", r.id}});
    }
    if (action == "UpdateDomainRecord") {
      if (auto n = need({"RecordId", "RR", "Type", "Value"})) return missing(*n);
      auto it = find(p["RecordId"]);
      if (it == records_.end()) {
        return error(400, "DomainRecordNotBelongToUser", "The DNS record does not exist.");
      }
      if (!is_address(p["Type"], p["Value"])) {
        return error(400, "InvalidRecordValue", "The record value is invalid.");
      }
      const int ttl = ttl_of(600);
      if (it->rr == p["RR"] && it->type == p["Type"] && it->value == p["Value"] && it->ttl == ttl) {
        return error(400, "DomainRecordDuplicate", "The DNS record already exists.");
      }
      it->rr = p["RR"];
      it->type = p["Type"];
      it->value = p["Value"];
      it->ttl = ttl;
      return ok({{"RecordId", it->id}});
    }
    if (action == "DeleteDomainRecord") {
      if (auto n = need({"RecordId"})) return missing(*n);
      auto it = find(p["RecordId"]);
      if (it == records_.end()) {
        return error(400, "DomainRecordNotBelongToUser", "The DNS record does not exist.");
      }
      const std::string id = it->id;
      records_.erase(it);
      return ok({{"RecordId", id}});
    }
    return error(404, "InvalidAction.NotFound", "Specified api is not found.");
  }

  mutable std::mutex mutex_;
  std::vector<Record> records_;
  std::vector<std::string> actions_;
  std::set<std::string> nonces_;
  int next_id_ = 1001;
};

class AlidnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::https_receiver({"/"}, {"GET", "POST"});
    server_->set_handler([this](const exporters::HttpRequest& r) { return fake_.handle(r); });
  }

  config::AlidnsProvider settings(const std::string& secret = kSecret,
                                  const std::string& key_id = kKeyId) const {
    return config::AlidnsProvider{kZone, key_id, Secret(secret)};
  }

  bool make(testing::ProviderHarness& h, const config::AlidnsProvider& c, bool with_ca = true) {
    config::ProviderConfig common{c, server_->url(""), std::nullopt};
    if (with_ca) common.ca_file = testing::TestCertificates::get().ca_file();
    return h.make_with([&](providers::ProviderContext context) {
      return providers::make_alidns_provider(c, common, context);
    });
  }

  static void expect_no_secret(const std::optional<providers::Reconciliation>& r) {
    ASSERT_TRUE(r);
    EXPECT_FALSE(contains(r->message, kSecret)) << "the secret must never be shown";
  }

  FakeAlidns fake_;
  std::unique_ptr<testing::Receiver> server_;
};

TEST_F(AlidnsTest, AddsAMissingRecordWithTheDefaultTtl) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_TRUE(r->before.empty());
  EXPECT_EQ(fake_.actions(),
            (std::vector<std::string>{"DescribeSubDomainRecords", "AddDomainRecord"}));
  auto records = fake_.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].rr, "www");
  EXPECT_EQ(records[0].type, "A");
  EXPECT_EQ(records[0].value, "192.0.2.1");
  EXPECT_EQ(records[0].ttl, 600);
  EXPECT_TRUE(contains(r->message, "(TTL 600)")) << r->message;
  expect_no_secret(r);
}

TEST_F(AlidnsTest, UpdateKeepsTheRecordsTtlAndInSyncOnlyReads) {
  fake_.add({"", "home", "A", "198.51.100.7", 120});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("home.example.com", {"192.0.2.10"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(r->before, std::vector<std::string>{"198.51.100.7"});
  EXPECT_EQ(fake_.actions(),
            (std::vector<std::string>{"DescribeSubDomainRecords", "UpdateDomainRecord"}));
  auto records = fake_.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value, "192.0.2.10");
  EXPECT_EQ(records[0].ttl, 120) << "no TTL in the config: the record's is kept";
  EXPECT_EQ(records[0].id, "1001") << "the record is changed in place";

  // Now in sync: one read, no write (Alibaba would refuse an update to the same value).
  auto same = h.reconcile(desired("home.example.com", {"192.0.2.10"}));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->outcome, Outcome::kUnchanged) << describe(same);
  EXPECT_EQ(same->before, std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(fake_.actions(),
            (std::vector<std::string>{"DescribeSubDomainRecords", "UpdateDomainRecord",
                                      "DescribeSubDomainRecords"}));

  // A TTL set in the config is written even when the address is right.
  auto ttl = h.reconcile(desired("home.example.com", {"192.0.2.10"}, config::RecordType::kA, 60));
  ASSERT_TRUE(ttl);
  EXPECT_EQ(ttl->outcome, Outcome::kUpdated) << describe(ttl);
  EXPECT_EQ(fake_.records()[0].ttl, 60);
}

TEST_F(AlidnsTest, SeveralAddressesReuseAddAndDeleteRecords) {
  fake_.add({"", "wan", "A", "192.0.2.1", 300});
  fake_.add({"", "wan", "AAAA", "2001:db8::1", 300});  // another type: never touched
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;

  auto two = h.reconcile(desired("wan.example.com", {"192.0.2.1", "192.0.2.2"}));
  ASSERT_TRUE(two);
  EXPECT_EQ(two->outcome, Outcome::kUpdated) << describe(two);
  EXPECT_EQ(fake_.actions(),
            (std::vector<std::string>{"DescribeSubDomainRecords", "AddDomainRecord"}))
      << "the address already held stays as it is";
  EXPECT_EQ(fake_.values("wan", "A"), (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  for (const auto& rec : fake_.records()) EXPECT_EQ(rec.ttl, 300) << rec.value;

  auto one = h.reconcile(desired("wan.example.com", {"203.0.113.5"}));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->outcome, Outcome::kUpdated) << describe(one);
  EXPECT_EQ(one->before, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(fake_.actions(),
            (std::vector<std::string>{"DescribeSubDomainRecords", "AddDomainRecord",
                                      "DescribeSubDomainRecords", "UpdateDomainRecord",
                                      "DeleteDomainRecord"}));
  EXPECT_EQ(fake_.values("wan", "A"), std::vector<std::string>{"203.0.113.5"});
  EXPECT_EQ(fake_.values("wan", "AAAA"), std::vector<std::string>{"2001:db8::1"});
}

TEST_F(AlidnsTest, ApexIsWrittenAsAt) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("example.com", {"2001:DB8:0::5"}, config::RecordType::kAAAA));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(fake_.values("@", "AAAA"), std::vector<std::string>{"2001:db8::5"});
  auto again = h.reconcile(desired("example.com", {"2001:db8::5"}, config::RecordType::kAAAA));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, Outcome::kUnchanged) << describe(again);
}

TEST_F(AlidnsTest, WrongSecretIsRejectedWithoutShowingIt) {
  fake_.add({"", "www", "A", "198.51.100.1", 600});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings("aliWrongSecretAlsoHidden"))) << h.error;
  auto r = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_FALSE(r->clock_skew);
  EXPECT_TRUE(contains(r->message, "SignatureDoesNotMatch")) << r->message;
  EXPECT_FALSE(contains(r->message, "aliWrongSecretAlsoHidden"));
  expect_no_secret(r);
  EXPECT_TRUE(fake_.actions().empty());
  EXPECT_EQ(fake_.values("www", "A"), std::vector<std::string>{"198.51.100.1"});
}

TEST_F(AlidnsTest, UnknownKeyIdIsRejected) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings(kSecret, "LTAI5tNobodyKnows"))) << h.error;
  auto r = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "does not know AccessKey ID LTAI5tNobodyKnows")) << r->message;
  expect_no_secret(r);
}

TEST_F(AlidnsTest, ClockTwentyMinutesAheadIsRejectedWithTheSkew) {
  testing::ProviderHarness h(minutes(20));
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  ASSERT_TRUE(r->clock_skew) << "without a skew the record would be latched";
  const auto skew = std::chrono::duration_cast<seconds>(*r->clock_skew).count();
  EXPECT_NEAR(static_cast<double>(skew), -1200.0, 5.0);
  EXPECT_TRUE(contains(r->message, "behind ours")) << r->message;
  EXPECT_TRUE(contains(r->message, "Alibaba accepts 15 minutes")) << r->message;
  EXPECT_TRUE(contains(r->message, "fix this machine's clock (NTP)")) << r->message;
  EXPECT_TRUE(fake_.records().empty());
  expect_no_secret(r);
}

TEST_F(AlidnsTest, ThrottlingIsRateLimited) {
  server_->script(
      {FakeAlidns::error(400, "Throttling.User", "Request was denied due to user flow control.")});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRateLimited) << describe(r);
  EXPECT_TRUE(contains(r->message, "Throttling.User")) << r->message;
  EXPECT_TRUE(fake_.records().empty());

  // A gateway in front may answer 429 with Retry-After.
  server_->script({{429, "text/plain", "Too Many Requests\n", {{"Retry-After", "30"}}}});
  auto r429 = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r429);
  EXPECT_EQ(r429->outcome, Outcome::kRateLimited) << describe(r429);
  ASSERT_TRUE(r429->retry_after);
  EXPECT_EQ(std::chrono::duration_cast<seconds>(*r429->retry_after).count(), 30);
}

TEST_F(AlidnsTest, KeyWithoutPermissionIsRejected) {
  server_->script({FakeAlidns::error(
      403, "Forbidden.RAM",
      "User not authorized to operate on the specified resource, or this API doesn't support "
      "RAM.")});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_FALSE(r->clock_skew);
  EXPECT_TRUE(contains(r->message, "Forbidden.RAM")) << r->message;
  EXPECT_TRUE(contains(r->message, "AliyunDNSFullAccess")) << r->message;
}

TEST_F(AlidnsTest, ExpiredTimestampWithoutADateHeaderIsRetriedNotLatched) {
  auto expired = FakeAlidns::error(400, "InvalidTimeStamp.Expired",
                                   "Specified time stamp or date value is expired.");
  expired.headers.clear();  // no Date: the skew cannot be measured
  server_->script({expired});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "more than 15 minutes off")) << r->message;
}

TEST_F(AlidnsTest, ServiceUnavailableFailsAndAWriteFailureKeepsBefore) {
  server_->script({FakeAlidns::error(503, "ServiceUnavailable",
                                     "The request has failed due to a temporary failure of the "
                                     "server.")});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "HTTP 503")) << r->message;

  // The read succeeds, the write meets a 500.
  fake_.add({"", "www", "A", "198.51.100.1", 600});
  testing::ProviderHarness h2;
  ASSERT_TRUE(make(h2, settings())) << h2.error;
  server_->set_handler([this](const exporters::HttpRequest& req) {
    if (contains(req.query, "Action=UpdateDomainRecord")) {
      return FakeAlidns::error(500, "InternalError", "The request processing has failed.");
    }
    return fake_.handle(req);
  });
  auto w = h2.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(w);
  EXPECT_EQ(w->outcome, Outcome::kFailed) << describe(w);
  EXPECT_EQ(w->before, std::vector<std::string>{"198.51.100.1"});
  EXPECT_TRUE(contains(w->message, "changing record 1001 to 192.0.2.1")) << w->message;
}

TEST_F(AlidnsTest, HtmlPageFailsWithAnExcerpt) {
  const std::string page =
      "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>Tengine</body></html>";
  server_->script({{502, "text/html", page, {}}, {200, "text/html", page, {}}});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "HTTP 502")) << r->message;
  EXPECT_TRUE(contains(r->message, "502 Bad Gateway")) << r->message;

  auto ok_html = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(ok_html);
  EXPECT_EQ(ok_html->outcome, Outcome::kFailed) << describe(ok_html);
  EXPECT_TRUE(contains(ok_html->message, "not Alibaba Cloud's JSON")) << ok_html->message;
  EXPECT_TRUE(contains(ok_html->message, "text/html")) << ok_html->message;
}

TEST_F(AlidnsTest, WithoutTheCaFileTlsFails) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings(), /*with_ca=*/false)) << h.error;
  auto r = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "certificate did not verify")) << r->message;
  EXPECT_TRUE(server_->requests().empty()) << "nothing may be sent over an unverified channel";
}

TEST_F(AlidnsTest, ZoneNotInTheAccountIsRejected) {
  testing::ProviderHarness h;
  auto c = settings();
  c.zone = "other.example";
  ASSERT_TRUE(make(h, c)) << h.error;
  auto r = h.reconcile(desired("www.other.example", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "zone other.example is not in this Alibaba Cloud account"))
      << r->message;
}

TEST_F(AlidnsTest, NameOutsideTheZoneIsRejectedBeforeAnyRequest) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.org", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(AlidnsTest, RecordsOfOtherLinesAreLeftAlone) {
  FakeAlidns::Record telecom{"", "www", "A", "198.51.100.9", 600};
  telecom.line = "telecom";
  fake_.add(telecom);
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.com", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_TRUE(r->before.empty()) << "the default line held nothing";
  EXPECT_EQ(fake_.values("www", "A"), (std::vector<std::string>{"192.0.2.1", "198.51.100.9"}));
}

}  // namespace
}  // namespace ddnswatch
