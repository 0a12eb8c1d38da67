// The dnspod provider against a fake Tencent Cloud DNSPod API 3.0 on loopback, over HTTPS with
// a CA made at run time. The fake checks what the real API checks: the TC3-HMAC-SHA256
// signature (recomputed here from the documented algorithm, from the headers and body as
// received), the SecretId, the Host that was signed, the X-TC-* headers, a timestamp within 5
// minutes of its clock, the parameters and their JSON types per action; it keeps records and
// answers in Tencent's documented shapes: HTTP 200 with Response.Error for API errors, no
// record at all as ResourceNotFound.NoDataOfRecord, and a Date header.
#include "providers/dnspod.h"

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

constexpr char kZone[] = "example.cn";
constexpr char kSecretId[] = "AKIDtestSecretId0123";
constexpr char kSecretKey[] = "tcKeyNeverShown0987";
constexpr char kDefaultLine[] = "默认";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_address(const std::string& type, const std::string& value) {
  unsigned char raw[16];
  return inet_pton(type == "AAAA" ? AF_INET6 : AF_INET, value.c_str(), raw) == 1;
}

/// A stateful DNSPod for one account holding the zone example.cn.
class FakeDnspod {
 public:
  struct Record {
    uint64_t id = 0;
    std::string name;
    std::string type;
    std::string value;
    int ttl = 600;
    std::string line = kDefaultLine;
  };

  void expect_host(std::string host) {
    std::lock_guard lock(mutex_);
    host_ = std::move(host);
  }

  exporters::HttpResponse handle(const exporters::HttpRequest& req) {
    std::lock_guard lock(mutex_);
    if (req.method != "POST" || req.path != "/") {
      return error("UnsupportedProtocol", "Only POST to / is served here.");
    }
    auto header = [&](const std::string& name) {
      auto it = req.headers.find(name);
      return it == req.headers.end() ? std::string() : it->second;
    };
    const std::string action = header("x-tc-action");
    if (action.empty()) return error("MissingParameter", "The X-TC-Action header is missing.");
    if (header("x-tc-version") != "2021-03-23") {
      return error("NoSuchVersion", "The API version does not exist.");
    }
    if (header("content-type") != "application/json; charset=utf-8") {
      return error("InvalidParameter", "The Content-Type is not supported.");
    }
    if (header("host") != host_) {
      return error("InvalidParameter", "The Host header is not this API's: " + header("host"));
    }
    // Authorization: TC3-HMAC-SHA256 Credential=ID/DATE/dnspod/tc3_request,
    // SignedHeaders=a;b;c, Signature=HEX
    const std::string auth = header("authorization");
    const std::string prefix = "TC3-HMAC-SHA256 Credential=";
    const size_t signed_at = auth.find(", SignedHeaders=");
    const size_t signature_at = auth.find(", Signature=");
    if (auth.rfind(prefix, 0) != 0 || signed_at == std::string::npos ||
        signature_at == std::string::npos || signature_at < signed_at) {
      return error("AuthFailure.InvalidAuthorization", "The Authorization header is malformed.");
    }
    const std::string credential = auth.substr(prefix.size(), signed_at - prefix.size());
    const std::string signed_headers = auth.substr(signed_at + 16, signature_at - signed_at - 16);
    const std::string signature = auth.substr(signature_at + 12);
    const size_t slash = credential.find('/');
    const std::string id = credential.substr(0, slash);
    const std::string scope = slash == std::string::npos ? "" : credential.substr(slash + 1);
    if (id != kSecretId) return error("AuthFailure.SecretIdNotFound", "The SecretId is not found.");
    int64_t timestamp = 0;
    try {
      timestamp = std::stoll(header("x-tc-timestamp"));
    } catch (const std::exception&) {
      return error("InvalidParameter", "X-TC-Timestamp is not a number.");
    }
    const auto now =
        std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    if (std::llabs(now - timestamp) > 300) {
      return error("AuthFailure.SignatureExpire",
                   "The signature expired: the timestamp is more than 5 minutes off.");
    }
    const std::string date =
        fmt::format("{:%Y-%m-%d}", fmt::gmtime(static_cast<std::time_t>(timestamp)));
    if (scope != date + "/dnspod/tc3_request") {
      return error("AuthFailure.SignatureFailure", "The credential scope is wrong.");
    }
    if (signed_headers != "content-type;host;x-tc-action") {
      return error("AuthFailure.SignatureFailure", "The signed headers are not the expected ones.");
    }
    // The documented algorithm, from the headers and body as received.
    std::string canonical_headers;
    size_t start = 0;
    while (start <= signed_headers.size()) {
      size_t end = signed_headers.find(';', start);
      if (end == std::string::npos) end = signed_headers.size();
      const std::string name = signed_headers.substr(start, end - start);
      canonical_headers += name + ":" + lower(header(name)) + "\n";
      start = end + 1;
    }
    const std::string canonical_request = "POST\n/\n\n" + canonical_headers + "\n" +
                                          signed_headers + "\n" + hex_encode(sha256(req.body));
    const std::string to_sign = "TC3-HMAC-SHA256\n" + std::to_string(timestamp) + "\n" + scope +
                                "\n" + hex_encode(sha256(canonical_request));
    const std::string key = hmac_sha256(
        hmac_sha256(hmac_sha256(std::string("TC3") + kSecretKey, date), "dnspod"), "tc3_request");
    if (!equal_constant_time(hex_encode(hmac_sha256(key, to_sign)), signature)) {
      return error("AuthFailure.SignatureFailure",
                   "The provided credentials could not be validated. Please check your "
                   "signature is correct.");
    }
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return error("InvalidParameter", "The body is not a JSON object.");
    }
    actions_.push_back(action);
    bodies_.push_back(body);
    return act(action, body);
  }

  void add(Record r) {
    std::lock_guard lock(mutex_);
    r.id = next_id_++;
    records_.push_back(std::move(r));
  }
  std::vector<Record> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }
  /// The actions of the requests that passed authentication, in order, and their bodies.
  std::vector<std::string> actions() const {
    std::lock_guard lock(mutex_);
    return actions_;
  }
  std::vector<json> bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  std::vector<std::string> values(const std::string& name, const std::string& type) const {
    std::vector<std::string> out;
    for (const auto& r : records()) {
      if (r.name == name && r.type == type) out.push_back(r.value);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static exporters::HttpResponse error(const std::string& code, const std::string& message) {
    return answer({{"Error", {{"Code", code}, {"Message", message}}},
                   {"RequestId", "ab4f1426-ea15-4ef4-bc4a-7f0d7a8fe0b9"}});
  }

  static exporters::HttpResponse answer(json response) {
    if (!response.contains("RequestId")) {
      response["RequestId"] = "6ef60bec-0242-43af-bb20-270359fb54a7";
    }
    return exporters::HttpResponse{200,
                                   "application/json",
                                   json{{"Response", response}}.dump(),
                                   {{"Date", testing::http_date()}}};
  }

 private:
  exporters::HttpResponse act(const std::string& action, const json& p) {
    auto text = [&](const char* name) {
      auto it = p.find(name);
      return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto missing = [&](std::initializer_list<const char*> names) -> std::optional<std::string> {
      for (const char* n : names) {
        if (!p.contains(n)) return std::string(n);
      }
      return std::nullopt;
    };
    auto invalid = [](const std::string& what) {
      return error("InvalidParameter", what + " is not valid.");
    };
    if (auto n = missing({"Domain"})) return error("MissingParameter", "Missing Domain.");
    if (text("Domain") != kZone) {
      return error("InvalidParameter.DomainNotExist", "当前域名有误，请返回重新操作。");
    }
    auto find = [&](const json& id) {
      return std::find_if(records_.begin(), records_.end(), [&](const Record& r) {
        return id.is_number_unsigned() && r.id == id.get<uint64_t>();
      });
    };
    auto valid_ttl = [&]() {
      return !p.contains("TTL") || (p["TTL"].is_number_unsigned() && p["TTL"].get<int>() >= 1);
    };
    if (action == "DescribeRecordList") {
      if (p.contains("Limit") &&
          (!p["Limit"].is_number_unsigned() || p["Limit"].get<int>() > 3000)) {
        return invalid("Limit");
      }
      json list = json::array();
      for (const auto& r : records_) {
        if (p.contains("Subdomain") && text("Subdomain") != r.name) continue;
        if (p.contains("RecordType") && text("RecordType") != r.type) continue;
        list.push_back({{"RecordId", r.id},
                        {"Value", r.value},
                        {"Status", "ENABLE"},
                        {"UpdatedOn", "2024-03-01 10:00:00"},
                        {"Name", r.name},
                        {"Line", r.line},
                        {"LineId", r.line == kDefaultLine ? "0" : "10=0"},
                        {"Type", r.type},
                        {"Weight", nullptr},
                        {"MonitorStatus", ""},
                        {"Remark", ""},
                        {"TTL", r.ttl},
                        {"MX", 0},
                        {"DefaultNS", false}});
      }
      if (list.empty()) return error("ResourceNotFound.NoDataOfRecord", "记录列表为空。");
      return answer({{"RecordCountInfo",
                      {{"SubdomainCount", list.size()},
                       {"ListCount", list.size()},
                       {"TotalCount", list.size()}}},
                     {"RecordList", list}});
    }
    if (action == "CreateRecord" || action == "ModifyRecord") {
      const bool modify = action == "ModifyRecord";
      if (auto n = modify ? missing({"RecordType", "RecordLine", "Value", "RecordId"})
                          : missing({"RecordType", "RecordLine", "Value"})) {
        return error("MissingParameter", "Missing " + *n + ".");
      }
      if (text("RecordLine") != kDefaultLine) return invalid("RecordLine");
      if (!is_address(text("RecordType"), text("Value"))) {
        return error("InvalidParameter.IPAddressInvalid", "IP地址不正确。");
      }
      if (!valid_ttl()) return invalid("TTL");
      const std::string name = p.contains("SubDomain") ? text("SubDomain") : "@";
      const int ttl = p.contains("TTL") ? p["TTL"].get<int>() : 600;
      auto it = records_.end();
      if (modify) {
        it = find(p["RecordId"]);
        if (it == records_.end())
          return error("InvalidParameter.RecordIdInvalid", "记录编号错误。");
      }
      for (const auto& r : records_) {
        if ((it == records_.end() || r.id != it->id) && r.name == name &&
            r.type == text("RecordType") && r.value == text("Value") && r.line == kDefaultLine) {
          return error("InvalidParameter.DomainRecordExist", "记录已经存在，无需再次添加。");
        }
      }
      if (!modify) {
        records_.push_back({next_id_++, name, text("RecordType"), text("Value"), ttl});
        return answer({{"RecordId", records_.back().id}});
      }
      it->name = name;
      it->type = text("RecordType");
      it->value = text("Value");
      it->ttl = ttl;
      return answer({{"RecordId", it->id}});
    }
    if (action == "DeleteRecord") {
      if (auto n = missing({"RecordId"})) return error("MissingParameter", "Missing RecordId.");
      auto it = find(p["RecordId"]);
      if (it == records_.end()) return error("InvalidParameter.RecordIdInvalid", "记录编号错误。");
      records_.erase(it);
      return answer(json::object());
    }
    return error("InvalidAction", "The action does not exist.");
  }

  mutable std::mutex mutex_;
  std::string host_;
  std::vector<Record> records_;
  std::vector<std::string> actions_;
  std::vector<json> bodies_;
  uint64_t next_id_ = 5001;
};

class DnspodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::https_receiver({"/"}, {"GET", "POST"});
    fake_.expect_host("127.0.0.1:" + std::to_string(server_->port()));
    server_->set_handler([this](const exporters::HttpRequest& r) { return fake_.handle(r); });
  }

  config::DnspodProvider settings(const std::string& key = kSecretKey,
                                  const std::string& id = kSecretId) const {
    return config::DnspodProvider{kZone, id, Secret(key)};
  }

  bool make(testing::ProviderHarness& h, const config::DnspodProvider& c, bool with_ca = true) {
    config::ProviderConfig common{c, server_->url("/"), std::nullopt};
    if (with_ca) common.ca_file = testing::TestCertificates::get().ca_file();
    return h.make_with([&](providers::ProviderContext context) {
      return providers::make_dnspod_provider(c, common, context);
    });
  }

  static void expect_no_secret(const std::optional<providers::Reconciliation>& r) {
    ASSERT_TRUE(r);
    EXPECT_FALSE(contains(r->message, kSecretKey)) << "the secret must never be shown";
  }

  FakeDnspod fake_;
  std::unique_ptr<testing::Receiver> server_;
};

TEST_F(DnspodTest, AddsAMissingRecordWithTheDefaultTtl) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_TRUE(r->before.empty()) << "NoDataOfRecord means the name holds nothing";
  EXPECT_EQ(fake_.actions(), (std::vector<std::string>{"DescribeRecordList", "CreateRecord"}));
  auto records = fake_.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].name, "www");
  EXPECT_EQ(records[0].value, "192.0.2.1");
  EXPECT_EQ(records[0].ttl, 600);
  auto create = fake_.bodies().at(1);
  EXPECT_EQ(create["RecordLine"], kDefaultLine);
  EXPECT_EQ(create["SubDomain"], "www");
  EXPECT_TRUE(create["TTL"].is_number_integer()) << create.dump();
  expect_no_secret(r);
}

TEST_F(DnspodTest, UpdateKeepsTheRecordsTtlAndInSyncOnlyReads) {
  fake_.add({0, "home", "A", "198.51.100.7", 1200});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("home.example.cn", {"192.0.2.10"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(r->before, std::vector<std::string>{"198.51.100.7"});
  EXPECT_EQ(fake_.actions(), (std::vector<std::string>{"DescribeRecordList", "ModifyRecord"}));
  auto modify = fake_.bodies().at(1);
  EXPECT_EQ(modify["RecordId"], 5001) << "an integer, as the API wants it";
  auto records = fake_.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value, "192.0.2.10");
  EXPECT_EQ(records[0].ttl, 1200) << "no TTL in the config: the record's is kept";

  auto same = h.reconcile(desired("home.example.cn", {"192.0.2.10"}));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->outcome, Outcome::kUnchanged) << describe(same);
  EXPECT_EQ(fake_.actions(),
            (std::vector<std::string>{"DescribeRecordList", "ModifyRecord", "DescribeRecordList"}));

  auto ttl = h.reconcile(desired("home.example.cn", {"192.0.2.10"}, config::RecordType::kA, 900));
  ASSERT_TRUE(ttl);
  EXPECT_EQ(ttl->outcome, Outcome::kUpdated) << describe(ttl);
  EXPECT_EQ(fake_.records()[0].ttl, 900);
}

TEST_F(DnspodTest, SeveralAddressesReuseCreateAndDeleteRecords) {
  fake_.add({0, "wan", "A", "192.0.2.1", 600});
  fake_.add({0, "wan", "AAAA", "2001:db8::1", 600});  // another type: never touched
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;

  auto two = h.reconcile(desired("wan.example.cn", {"192.0.2.2", "192.0.2.1"}));
  ASSERT_TRUE(two);
  EXPECT_EQ(two->outcome, Outcome::kUpdated) << describe(two);
  EXPECT_EQ(fake_.actions(), (std::vector<std::string>{"DescribeRecordList", "CreateRecord"}));
  EXPECT_EQ(fake_.values("wan", "A"), (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));

  auto one = h.reconcile(desired("wan.example.cn", {"203.0.113.5"}));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->outcome, Outcome::kUpdated) << describe(one);
  EXPECT_EQ(one->before, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(fake_.actions(),
            (std::vector<std::string>{"DescribeRecordList", "CreateRecord", "DescribeRecordList",
                                      "ModifyRecord", "DeleteRecord"}));
  EXPECT_EQ(fake_.values("wan", "A"), std::vector<std::string>{"203.0.113.5"});
  EXPECT_EQ(fake_.values("wan", "AAAA"), std::vector<std::string>{"2001:db8::1"});
}

TEST_F(DnspodTest, ApexIsWrittenAsAt) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("example.cn", {"2001:DB8:0::5"}, config::RecordType::kAAAA));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(fake_.values("@", "AAAA"), std::vector<std::string>{"2001:db8::5"});
  auto again = h.reconcile(desired("example.cn", {"2001:db8::5"}, config::RecordType::kAAAA));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, Outcome::kUnchanged) << describe(again);
}

TEST_F(DnspodTest, WrongSecretKeyIsRejectedWithoutShowingIt) {
  fake_.add({0, "www", "A", "198.51.100.1", 600});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings("tcWrongKeyAlsoHidden"))) << h.error;
  auto r = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_FALSE(r->clock_skew);
  EXPECT_TRUE(contains(r->message, "AuthFailure.SignatureFailure")) << r->message;
  EXPECT_FALSE(contains(r->message, "tcWrongKeyAlsoHidden"));
  expect_no_secret(r);
  EXPECT_TRUE(fake_.actions().empty());
  EXPECT_EQ(fake_.values("www", "A"), std::vector<std::string>{"198.51.100.1"});
}

TEST_F(DnspodTest, UnknownSecretIdIsRejected) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings(kSecretKey, "AKIDnobodyKnows"))) << h.error;
  auto r = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "does not know SecretId AKIDnobodyKnows")) << r->message;
  expect_no_secret(r);
}

TEST_F(DnspodTest, ClockTenMinutesAheadIsRejectedWithTheSkew) {
  testing::ProviderHarness h(minutes(10));
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  ASSERT_TRUE(r->clock_skew) << "without a skew the record would be latched";
  const auto skew = std::chrono::duration_cast<seconds>(*r->clock_skew).count();
  EXPECT_NEAR(static_cast<double>(skew), -600.0, 5.0);
  EXPECT_TRUE(contains(r->message, "behind ours")) << r->message;
  EXPECT_TRUE(contains(r->message, "Tencent accepts 5 minutes")) << r->message;
  EXPECT_TRUE(contains(r->message, "fix this machine's clock (NTP)")) << r->message;
  EXPECT_TRUE(fake_.records().empty());
}

TEST_F(DnspodTest, RequestLimitExceededIsRateLimited) {
  server_->script({FakeDnspod::error("RequestLimitExceeded.UinLimitExceeded",
                                     "Your request frequency exceeds the limit.")});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRateLimited) << describe(r);
  EXPECT_TRUE(contains(r->message, "RequestLimitExceeded.UinLimitExceeded")) << r->message;

  // A gateway in front may answer 429 with Retry-After.
  server_->script({{429, "text/plain", "Too Many Requests\n", {{"Retry-After", "45"}}}});
  auto r429 = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r429);
  EXPECT_EQ(r429->outcome, Outcome::kRateLimited) << describe(r429);
  ASSERT_TRUE(r429->retry_after);
  EXPECT_EQ(std::chrono::duration_cast<seconds>(*r429->retry_after).count(), 45);
}

TEST_F(DnspodTest, KeyWithoutPermissionIsRejected) {
  server_->script({FakeDnspod::error("UnauthorizedOperation",
                                     "The request is not authorized: CAM denied access.")});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "QcloudDNSPodFullAccess")) << r->message;
}

TEST_F(DnspodTest, InternalErrorAndServerErrorsFail) {
  server_->script({FakeDnspod::error("InternalError", "An internal error occurred."),
                   {503, "text/plain", "service unavailable\n", {}}});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "InternalError")) << r->message;
  auto r503 = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r503);
  EXPECT_EQ(r503->outcome, Outcome::kFailed) << describe(r503);
  EXPECT_TRUE(contains(r503->message, "HTTP 503")) << r503->message;
  EXPECT_TRUE(fake_.records().empty());
}

TEST_F(DnspodTest, HtmlPageFailsWithAnExcerpt) {
  const std::string page =
      "<html><head><title>504 Gateway Time-out</title></head><body>stgw</body></html>";
  server_->script({{200, "text/html", page, {}}});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "not Tencent Cloud's JSON")) << r->message;
  EXPECT_TRUE(contains(r->message, "504 Gateway Time-out")) << r->message;
}

TEST_F(DnspodTest, WithoutTheCaFileTlsFails) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings(), /*with_ca=*/false)) << h.error;
  auto r = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "certificate did not verify")) << r->message;
  EXPECT_TRUE(server_->requests().empty()) << "nothing may be sent over an unverified channel";
}

TEST_F(DnspodTest, ZoneNotInTheAccountIsRejected) {
  testing::ProviderHarness h;
  auto c = settings();
  c.zone = "other.example";
  ASSERT_TRUE(make(h, c)) << h.error;
  auto r = h.reconcile(desired("www.other.example", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "zone other.example is not in this DNSPod account"))
      << r->message;
}

TEST_F(DnspodTest, RecordsOfOtherLinesAreLeftAlone) {
  FakeDnspod::Record telecom{0, "www", "A", "198.51.100.9", 600};
  telecom.line = "电信";
  fake_.add(telecom);
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, settings())) << h.error;
  auto r = h.reconcile(desired("www.example.cn", {"192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_TRUE(r->before.empty()) << "the default line held nothing";
  EXPECT_EQ(fake_.values("www", "A"), (std::vector<std::string>{"192.0.2.1", "198.51.100.9"}));
}

}  // namespace
}  // namespace ddnswatch
