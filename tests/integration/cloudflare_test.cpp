// The Cloudflare provider against a fake Cloudflare API v4 on loopback, over HTTPS with a test
// CA. The fake keeps zones and records and checks what the real API checks: the Bearer token
// (and its permission to write), the paths and methods, the query of a list, and the JSON
// bodies (no unknown fields, valid addresses and TTLs); it answers in Cloudflare's envelope,
// errors included, with a Date header.
#include "providers/cloudflare.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "net/http_client.h"
#include "support/fake_api.h"
#include "support/loop_runner.h"
#include "support/provider_harness.h"
#include "support/receiver.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using exporters::HttpRequest;
using exporters::HttpResponse;
using nlohmann::json;
using providers::Outcome;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::contains;
using testing::describe;
using testing::desired;

constexpr char kToken[] = "cf-token-Wq7xZ2mR9vL4";
constexpr char kReadOnlyToken[] = "cf-readonly-Bt5nK8sJ3";
constexpr char kZone[] = "example.com";
constexpr char kZoneId[] = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr char kBase[] = "/client/v4";

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool valid_address(const std::string& type, const std::string& text) {
  unsigned char raw[16];
  return inet_pton(type == "A" ? AF_INET : AF_INET6, text.c_str(), raw) == 1;
}

HttpResponse json_answer(int status, const json& body) {
  return HttpResponse{status, "application/json", body.dump(), {{"Date", testing::http_date()}}};
}

HttpResponse success(const json& result, const json& result_info = nullptr) {
  json body = {{"success", true}, {"errors", json::array()}, {"messages", json::array()}};
  body["result"] = result;
  if (!result_info.is_null()) body["result_info"] = result_info;
  return json_answer(200, body);
}

/// Cloudflare's error shape: {"success": false, "errors": [{code, message, error_chain}]}.
HttpResponse failure(int status, int code, const std::string& message,
                     std::optional<std::pair<int, std::string>> chain = std::nullopt) {
  json error = {{"code", code}, {"message", message}};
  if (chain)
    error["error_chain"] = json::array({{{"code", chain->first}, {"message", chain->second}}});
  return json_answer(status, {{"success", false},
                              {"errors", json::array({error})},
                              {"messages", json::array()},
                              {"result", nullptr}});
}

struct FakeRecord {
  std::string id;
  std::string type = "A";
  std::string name;
  std::string content;
  int64_t ttl = 1;
  bool proxied = false;
  std::string comment;
};

/// A stateful Cloudflare API v4. Requests arrive on the receiver's threads; tests read the
/// state between reconciles.
class FakeCloudflare {
 public:
  FakeCloudflare() { zones_[kZone] = kZoneId; }

  std::string add(FakeRecord r) {
    std::lock_guard lock(mutex_);
    if (r.id.empty()) r.id = next_id();
    records_.push_back(r);
    return r.id;
  }

  /// The records of name/type, in creation order.
  std::vector<FakeRecord> records(const std::string& name, const std::string& type = "A") const {
    std::lock_guard lock(mutex_);
    std::vector<FakeRecord> out;
    for (const auto& r : records_) {
      if (r.name == name && r.type == type) out.push_back(r);
    }
    return out;
  }

  std::vector<std::string> contents(const std::string& name, const std::string& type = "A") const {
    std::vector<std::string> out;
    for (const auto& r : records(name, type)) out.push_back(r.content);
    std::sort(out.begin(), out.end());
    return out;
  }

  HttpResponse handle(const HttpRequest& req) {
    std::lock_guard lock(mutex_);
    auto auth = req.headers.find("authorization");
    if (auth == req.headers.end() || auth->second.rfind("Bearer ", 0) != 0 ||
        auth->second.size() == 7) {
      return failure(400, 6003, "Invalid request headers",
                     std::make_pair(6111, "Invalid format for Authorization header"));
    }
    const std::string token = auth->second.substr(7);
    if (token != kToken && token != kReadOnlyToken) {
      return failure(403, 9109, "Invalid access token");
    }
    if (req.path.rfind(std::string(kBase) + "/", 0) != 0) {
      return failure(404, 7000, "No route for that URI");
    }
    const auto parts = split_path(req.path.substr(std::string(kBase).size()));
    const auto query = testing::parse_query(req.query);
    if (parts.size() == 1 && parts[0] == "zones") {
      if (req.method != "GET") return failure(405, 7001, "Method not allowed");
      return list_zones(query);
    }
    if (parts.size() < 3 || parts[0] != "zones" || parts[2] != "dns_records" || parts.size() > 4) {
      return failure(404, 7000, "No route for that URI");
    }
    std::string zone_name;
    for (const auto& [name, id] : zones_) {
      if (id == parts[1]) zone_name = name;
    }
    if (zone_name.empty()) {
      return failure(404, 7003,
                     "Could not route to " + req.path +
                         ", perhaps your object identifier is "
                         "invalid?");
    }
    if (req.method != "GET" && token == kReadOnlyToken) {
      return failure(403, 10000, "Authentication error");
    }
    if (parts.size() == 3 && req.method == "GET") return list_records(zone_name, query);
    if (parts.size() == 3 && req.method == "POST") return create(zone_name, req);
    if (parts.size() == 4 && (req.method == "PATCH" || req.method == "DELETE")) {
      auto it = std::find_if(records_.begin(), records_.end(),
                             [&](const FakeRecord& r) { return r.id == parts[3]; });
      if (it == records_.end()) return failure(404, 81044, "Record does not exist.");
      if (req.method == "DELETE") {
        records_.erase(it);
        return success({{"id", parts[3]}});
      }
      return patch(zone_name, *it, req);
    }
    return failure(405, 7001, "Method not allowed");
  }

 private:
  std::string next_id() { return fmt::format("372e67954025e0ba6aaa6d586b9e0b{:02d}", ++ids_); }

  json to_json(const FakeRecord& r, const std::string& zone_name) const {
    json j = {{"id", r.id},
              {"zone_id", zones_.at(zone_name)},
              {"zone_name", zone_name},
              {"name", r.name},
              {"type", r.type},
              {"content", r.content},
              {"proxiable", true},
              {"proxied", r.proxied},
              {"ttl", r.ttl},
              {"settings", json::object()},
              {"meta", json::object()},
              {"tags", json::array()},
              {"created_on", "2024-05-01T10:00:00.000000Z"},
              {"modified_on", "2024-05-01T10:00:00.000000Z"}};
    j["comment"] = r.comment.empty() ? json(nullptr) : json(r.comment);
    return j;
  }

  static json page_info(size_t count) {
    return {{"page", 1},
            {"per_page", 100},
            {"count", count},
            {"total_count", count},
            {"total_pages", count > 0 ? 1 : 0}};
  }

  HttpResponse list_zones(const std::map<std::string, std::string>& query) {
    json result = json::array();
    for (const auto& [name, id] : zones_) {
      if (query.count("name") && query.at("name") != name) continue;
      result.push_back({{"id", id}, {"name", name}, {"status", "active"}, {"paused", false}});
    }
    return success(result, page_info(result.size()));
  }

  HttpResponse list_records(const std::string& zone_name,
                            const std::map<std::string, std::string>& query) {
    // The provider must ask for exactly its name and type, never a whole zone.
    if (!query.count("type") || !query.count("name")) {
      return failure(400, 1004, "DNS Validation Error",
                     std::make_pair(9000, "the fake wants type and name filters"));
    }
    json result = json::array();
    for (const auto& r : records_) {
      if (r.type == query.at("type") && r.name == query.at("name")) {
        result.push_back(to_json(r, zone_name));
      }
    }
    return success(result, page_info(result.size()));
  }

  /// Checks a POST or PATCH body as Cloudflare does; the error, or nothing.
  std::optional<HttpResponse> check_body(const HttpRequest& req, const std::string& zone_name,
                                         const json& body, const std::string& type) const {
    auto ct = req.headers.find("content-type");
    if (ct == req.headers.end() || ct->second.rfind("application/json", 0) != 0) {
      return failure(400, 6007, "Malformed JSON in request body");
    }
    if (!body.is_object()) return failure(400, 9207, "Request body is invalid.");
    for (const auto& [key, value] : body.items()) {
      static const std::vector<std::string> known = {"type",    "name",    "content", "ttl",
                                                     "proxied", "comment", "tags"};
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return failure(400, 9207, "Request body is invalid.");
      }
    }
    if (body.contains("type") && body["type"] != "A" && body["type"] != "AAAA") {
      return failure(400, 1004, "DNS Validation Error", std::make_pair(9008, "Invalid type"));
    }
    if (body.contains("content") && (!body["content"].is_string() ||
                                     !valid_address(type, body["content"].get<std::string>()))) {
      return failure(
          400, 1004, "DNS Validation Error",
          type == "A"
              ? std::make_pair(9005, "Content for A record must be a valid IPv4 address.")
              : std::make_pair(9006, "Content for AAAA record must be a valid IPv6 address."));
    }
    if (body.contains("ttl")) {
      const json& t = body["ttl"];
      if (!t.is_number_integer() || (t != 1 && (t < 60 || t > 86400))) {
        return failure(400, 1004, "DNS Validation Error",
                       std::make_pair(9021,
                                      "Invalid TTL. Must be between 60 and 86400 seconds, "
                                      "or 1 for Automatic."));
      }
    }
    if (body.contains("proxied") && !body["proxied"].is_boolean()) {
      return failure(400, 9207, "Request body is invalid.");
    }
    if (body.contains("name")) {
      const std::string n = body["name"].is_string() ? body["name"].get<std::string>() : "";
      if (n != zone_name &&
          !(n.size() > zone_name.size() &&
            n.compare(n.size() - zone_name.size() - 1, std::string::npos, "." + zone_name) == 0)) {
        return failure(400, 1004, "DNS Validation Error",
                       std::make_pair(9000, "DNS name is invalid."));
      }
    }
    return std::nullopt;
  }

  bool identical_exists(const FakeRecord& r) const {
    return std::any_of(records_.begin(), records_.end(), [&](const FakeRecord& o) {
      return o.id != r.id && o.type == r.type && o.name == r.name && o.content == r.content;
    });
  }

  HttpResponse create(const std::string& zone_name, const HttpRequest& req) {
    json body = json::parse(req.body, nullptr, false);
    const std::string type = body.is_object() && body.contains("type") && body["type"].is_string()
                                 ? body["type"].get<std::string>()
                                 : "";
    if (auto bad = check_body(req, zone_name, body, type)) return *bad;
    if (!body.contains("type") || !body.contains("name") || !body.contains("content")) {
      return failure(400, 9207, "Request body is invalid.");
    }
    FakeRecord r;
    r.id = next_id();
    r.type = type;
    r.name = body["name"].get<std::string>();
    r.content = body["content"].get<std::string>();
    r.ttl = body.value("ttl", int64_t{1});
    r.proxied = body.value("proxied", false);
    if (body.contains("comment") && body["comment"].is_string()) {
      r.comment = body["comment"].get<std::string>();
    }
    if (identical_exists(r)) return failure(400, 81058, "An identical record already exists.");
    records_.push_back(r);
    return success(to_json(r, zone_name));
  }

  HttpResponse patch(const std::string& zone_name, FakeRecord& r, const HttpRequest& req) {
    json body = json::parse(req.body, nullptr, false);
    if (auto bad = check_body(req, zone_name, body, r.type)) return *bad;
    FakeRecord after = r;
    if (body.contains("name")) after.name = body["name"].get<std::string>();
    if (body.contains("content")) after.content = body["content"].get<std::string>();
    if (body.contains("ttl")) after.ttl = body["ttl"].get<int64_t>();
    if (body.contains("proxied")) after.proxied = body["proxied"].get<bool>();
    if (body.contains("comment")) {
      after.comment = body["comment"].is_string() ? body["comment"].get<std::string>() : "";
    }
    if (identical_exists(after)) return failure(400, 81058, "An identical record already exists.");
    r = after;
    return success(to_json(r, zone_name));
  }

  mutable std::mutex mutex_;
  std::map<std::string, std::string> zones_;  // name → id
  std::vector<FakeRecord> records_;
  int ids_ = 0;
};

class CloudflareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    receiver_ = testing::https_receiver({"/**"}, {"GET", "POST", "PUT", "PATCH", "DELETE"});
    receiver_->set_handler([this](const HttpRequest& req) { return fake_.handle(req); });
  }

  config::ProviderConfig config(const std::string& token = kToken,
                                const std::string& zone = kZone) const {
    config::ProviderConfig c;
    c.settings = config::CloudflareProvider{zone, Secret(token)};
    c.endpoint = receiver_->url(kBase);
    c.ca_file = testing::TestCertificates::get().ca_file();
    return c;
  }

  static bool make(testing::ProviderHarness& h, const config::ProviderConfig& c) {
    return h.make_with([&](providers::ProviderContext context) {
      return providers::make_cloudflare_provider(std::get<config::CloudflareProvider>(c.settings),
                                                 c, context);
    });
  }

  /// "GET /client/v4/zones", ... for the requests since `from`.
  std::vector<std::string> calls(size_t from = 0) const {
    std::vector<std::string> out;
    auto all = receiver_->requests();
    for (size_t i = from; i < all.size(); ++i) out.push_back(all[i].method + " " + all[i].path);
    return out;
  }

  static std::string records_path() {
    return std::string(kBase) + "/zones/" + kZoneId + "/dns_records";
  }

  FakeCloudflare fake_;
  std::unique_ptr<testing::Receiver> receiver_;
};

TEST_F(CloudflareTest, CreatesTheRecordWithTheConfiguredTtl) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("home.example.com", {"192.0.2.10"}, config::RecordType::kA, 300));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_TRUE(r->before.empty());
  EXPECT_FALSE(r->proxied);
  EXPECT_TRUE(contains(r->message, "now holds 192.0.2.10 (TTL 300)")) << r->message;
  auto records = fake_.records("home.example.com");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].content, "192.0.2.10");
  EXPECT_EQ(records[0].ttl, 300);
  EXPECT_FALSE(records[0].proxied);
  EXPECT_EQ(calls(), (std::vector<std::string>{"GET /client/v4/zones", "GET " + records_path(),
                                               "POST " + records_path()}));
  auto requests = receiver_->requests();
  EXPECT_EQ(requests[0].query, "name=example.com");
  EXPECT_EQ(requests[1].query, "type=A&name=home.example.com&per_page=100");
  EXPECT_EQ(requests[0].headers.at("authorization"), std::string("Bearer ") + kToken);
  EXPECT_EQ(json::parse(requests[2].body),
            json::parse(R"({"type":"A","name":"home.example.com","content":"192.0.2.10",
                            "ttl":300,"proxied":false})"));
}

TEST_F(CloudflareTest, CreatesWithAutomaticTtlWhenNoneIsSet) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("auto.example.com", {"2001:DB8::10"}, config::RecordType::kAAAA));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  auto records = fake_.records("auto.example.com", "AAAA");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].content, "2001:db8::10");
  EXPECT_EQ(records[0].ttl, 1);
}

TEST_F(CloudflareTest, UpdateKeepsTtlProxiedAndComment) {
  const std::string id =
      fake_.add({"", "A", "keep.example.com", "198.51.100.1", 120, false, "router at home"});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("keep.example.com", {"192.0.2.20"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(r->before, std::vector<std::string>{"198.51.100.1"});
  auto records = fake_.records("keep.example.com");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, id) << "the record is reused, not replaced";
  EXPECT_EQ(records[0].content, "192.0.2.20");
  EXPECT_EQ(records[0].ttl, 120);
  EXPECT_EQ(records[0].comment, "router at home");
  auto requests = receiver_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].method, "PATCH");
  EXPECT_EQ(requests[2].path, records_path() + "/" + id);
  EXPECT_EQ(json::parse(requests[2].body), json::parse(R"({"content":"192.0.2.20"})"));
}

TEST_F(CloudflareTest, InSyncMakesOnlyReadsAndTheZoneIsLookedUpOnce) {
  fake_.add({"", "A", "same.example.com", "192.0.2.30", 300, false, ""});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto first =
      h.reconcile(desired("same.example.com", {"192.0.2.30"}, config::RecordType::kA, 300));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->outcome, Outcome::kUnchanged) << describe(first);
  EXPECT_EQ(first->before, std::vector<std::string>{"192.0.2.30"});
  EXPECT_TRUE(contains(first->message, "already holds 192.0.2.30 (TTL 300)")) << first->message;
  auto second = h.reconcile(desired("same.example.com", {"192.0.2.30"}));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->outcome, Outcome::kUnchanged) << describe(second);
  EXPECT_EQ(calls(), (std::vector<std::string>{"GET /client/v4/zones", "GET " + records_path(),
                                               "GET " + records_path()}));
}

TEST_F(CloudflareTest, TwoWantedWithOneHeldKeepsItAndCreatesOne) {
  const std::string id = fake_.add({"", "A", "wan.example.com", "192.0.2.1", 600, false, ""});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("wan.example.com", {"192.0.2.2", "192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(fake_.contents("wan.example.com"),
            (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  auto records = fake_.records("wan.example.com");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, id);
  EXPECT_EQ(records[1].ttl, 600) << "a new record takes the TTL of the set";
  EXPECT_EQ(calls(2), std::vector<std::string>{"POST " + records_path()});
}

TEST_F(CloudflareTest, TwoWantedWithOneStalePatchesItAndCreatesOne) {
  const std::string id = fake_.add({"", "A", "wan2.example.com", "198.51.100.9", 600, false, ""});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("wan2.example.com", {"192.0.2.2", "192.0.2.1"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(fake_.contents("wan2.example.com"),
            (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(calls(2), (std::vector<std::string>{"PATCH " + records_path() + "/" + id,
                                                "POST " + records_path()}));
}

TEST_F(CloudflareTest, OneWantedWithTwoHeldDeletesTheExtra) {
  const std::string stale = fake_.add({"", "A", "one.example.com", "198.51.100.5", 300, false, ""});
  const std::string kept = fake_.add({"", "A", "one.example.com", "192.0.2.40", 300, false, ""});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("one.example.com", {"192.0.2.40"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(r->before, (std::vector<std::string>{"192.0.2.40", "198.51.100.5"}));
  auto records = fake_.records("one.example.com");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, kept);
  EXPECT_EQ(calls(2), std::vector<std::string>{"DELETE " + records_path() + "/" + stale});
}

TEST_F(CloudflareTest, OneWantedWithTwoStalePatchesOneAndDeletesTheOther) {
  const std::string a = fake_.add({"", "A", "two.example.com", "198.51.100.5", 300, false, ""});
  const std::string b = fake_.add({"", "A", "two.example.com", "198.51.100.6", 300, false, ""});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("two.example.com", {"192.0.2.41"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(fake_.contents("two.example.com"), std::vector<std::string>{"192.0.2.41"});
  EXPECT_EQ(calls(2), (std::vector<std::string>{"PATCH " + records_path() + "/" + a,
                                                "DELETE " + records_path() + "/" + b}))
      << "the name keeps an address throughout";
}

TEST_F(CloudflareTest, ATtlChangeAloneIsAPatch) {
  const std::string id = fake_.add({"", "A", "ttl.example.com", "192.0.2.50", 3600, false, ""});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("ttl.example.com", {"192.0.2.50"}, config::RecordType::kA, 120));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(fake_.records("ttl.example.com").at(0).ttl, 120);
  auto requests = receiver_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].method + " " + requests[2].path, "PATCH " + records_path() + "/" + id);
  EXPECT_EQ(json::parse(requests[2].body), json::parse(R"({"ttl":120})"));
}

TEST_F(CloudflareTest, ProxiedRecordsAreReportedAndKeepTheirTtl) {
  fake_.add({"", "A", "www.example.com", "192.0.2.60", 1, true, ""});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  // A TTL in the config does not apply: Cloudflare answers for proxied names itself.
  auto same = h.reconcile(desired("www.example.com", {"192.0.2.60"}, config::RecordType::kA, 300));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->outcome, Outcome::kUnchanged) << describe(same);
  EXPECT_TRUE(same->proxied);
  EXPECT_TRUE(contains(same->message, "proxied")) << same->message;

  auto moved = h.reconcile(desired("www.example.com", {"192.0.2.61", "192.0.2.62"}));
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->outcome, Outcome::kUpdated) << describe(moved);
  EXPECT_TRUE(moved->proxied);
  auto records = fake_.records("www.example.com");
  ASSERT_EQ(records.size(), 2u);
  for (const auto& rec : records) {
    EXPECT_TRUE(rec.proxied) << rec.content;
    EXPECT_EQ(rec.ttl, 1) << rec.content;
  }
}

TEST_F(CloudflareTest, AnInvalidTokenIsRejectedWithoutShowingIt) {
  const std::string token = "cf-revoked-Hq3vN6pX";
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config(token))) << h.error;
  auto r = h.reconcile(desired("home.example.com", {"192.0.2.70"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "9109 Invalid access token")) << r->message;
  EXPECT_TRUE(contains(r->message, "Zone.DNS.Edit")) << r->message;
  EXPECT_FALSE(contains(r->message, token)) << "the token must never be shown";
  EXPECT_EQ(receiver_->requests().size(), 1u);
}

TEST_F(CloudflareTest, ATokenThatCannotEditIsRejectedBeforeAnythingChanges) {
  fake_.add({"", "A", "ro.example.com", "198.51.100.7", 300, false, ""});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config(kReadOnlyToken))) << h.error;
  auto r = h.reconcile(desired("ro.example.com", {"192.0.2.71"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "HTTP 403")) << r->message;
  EXPECT_TRUE(contains(r->message, "10000 Authentication error")) << r->message;
  EXPECT_TRUE(contains(r->message, "Zone.DNS.Edit")) << r->message;
  EXPECT_FALSE(contains(r->message, kReadOnlyToken));
  EXPECT_EQ(r->before, std::vector<std::string>{"198.51.100.7"});
  EXPECT_EQ(fake_.contents("ro.example.com"), std::vector<std::string>{"198.51.100.7"});
}

TEST_F(CloudflareTest, RateLimitWaitsAtLeastFiveMinutes) {
  receiver_->script({HttpResponse{
      429,
      "application/json",
      R"({"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null})",
      {{"Retry-After", "30"}, {"Date", testing::http_date()}}}});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("home.example.com", {"192.0.2.80"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRateLimited) << describe(r);
  ASSERT_TRUE(r->retry_after);
  EXPECT_GE(*r->retry_after, minutes(5));
  EXPECT_TRUE(contains(r->message, "971")) << r->message;
}

TEST_F(CloudflareTest, RateLimitHonoursALongerRetryAfter) {
  receiver_->script({HttpResponse{
      429, "application/json", R"({"success":false,"errors":[]})", {{"Retry-After", "900"}}}});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("home.example.com", {"192.0.2.81"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRateLimited) << describe(r);
  ASSERT_TRUE(r->retry_after);
  EXPECT_EQ(*r->retry_after, seconds(900));
}

TEST_F(CloudflareTest, BadGatewayFails) {
  receiver_->script({HttpResponse{
      502,
      "application/json",
      R"({"success":false,"errors":[{"code":10013,"message":"upstream error"}],"messages":[],"result":null})",
      {{"Date", testing::http_date()}}}});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("home.example.com", {"192.0.2.90"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "HTTP 502")) << r->message;
}

TEST_F(CloudflareTest, AnHtmlErrorPageFailsWithAnExcerpt) {
  fake_.add({"", "A", "html.example.com", "198.51.100.8", 300, false, ""});
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  // The zone lookup succeeds; the read meets an HTML page from something in between.
  receiver_->set_handler([this, n = 0](const HttpRequest& req) mutable {
    if (++n == 2) {
      return HttpResponse{502,
                          "text/html",
                          "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                          "<body>cloudflare</body></html>",
                          {{"Date", testing::http_date()}}};
    }
    return fake_.handle(req);
  });
  auto r = h.reconcile(desired("html.example.com", {"192.0.2.91"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "HTTP 502")) << r->message;
  EXPECT_TRUE(contains(r->message, "text/html")) << r->message;
  EXPECT_TRUE(contains(r->message, "<title>502 Bad Gateway</title>")) << r->message;

  // A page served with 200 (a captive portal, a proxy) is not taken for an answer either.
  receiver_->set_handler([](const HttpRequest&) {
    return HttpResponse{200, "text/html", "<html><body>Please log in</body></html>", {}};
  });
  auto again = h.reconcile(desired("html.example.com", {"192.0.2.91"}));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, Outcome::kFailed) << describe(again);
  EXPECT_TRUE(contains(again->message, "Please log in")) << again->message;
  EXPECT_EQ(fake_.contents("html.example.com"), std::vector<std::string>{"198.51.100.8"});
}

TEST_F(CloudflareTest, AnUnknownZoneIsRejected) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config(kToken, "example.net"))) << h.error;
  auto r = h.reconcile(desired("home.example.net", {"192.0.2.100"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "zone example.net not found")) << r->message;
}

TEST_F(CloudflareTest, ANameOutsideTheZoneIsRejectedBeforeAnyRequest) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("home.example.org", {"192.0.2.101"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(receiver_->requests().empty());
}

TEST_F(CloudflareTest, AValidationErrorIsRejectedWithCloudflaresWords) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto r = h.reconcile(desired("short.example.com", {"192.0.2.102"}, config::RecordType::kA, 20));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "9021 Invalid TTL")) << r->message;
  EXPECT_TRUE(fake_.records("short.example.com").empty());
}

TEST_F(CloudflareTest, WithoutTheCaFileTheCertificateIsRefused) {
  testing::ProviderHarness h;
  auto c = config();
  c.ca_file.reset();
  ASSERT_TRUE(make(h, c)) << h.error;
  auto r = h.reconcile(desired("home.example.com", {"192.0.2.110"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "certificate did not verify")) << r->message;
  EXPECT_TRUE(fake_.records("home.example.com").empty());
}

TEST_F(CloudflareTest, AZoneRecreatedUnderANewIdIsLookedUpAgain) {
  testing::ProviderHarness h;
  ASSERT_TRUE(make(h, config())) << h.error;
  auto first = h.reconcile(desired("re.example.com", {"192.0.2.120"}));
  ASSERT_TRUE(first);
  ASSERT_EQ(first->outcome, Outcome::kUpdated) << describe(first);
  // The cached id now answers 404 once, as for a zone deleted and added again.
  receiver_->script({HttpResponse{
      404,
      "application/json",
      R"({"success":false,"errors":[{"code":7003,"message":"Could not route to /zones/x/dns_records, perhaps your object identifier is invalid?"}],"messages":[],"result":null})",
      {}}});
  auto lost = h.reconcile(desired("re.example.com", {"192.0.2.121"}));
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->outcome, Outcome::kFailed) << describe(lost) << ": worth another try";
  const size_t before = receiver_->requests().size();
  auto again = h.reconcile(desired("re.example.com", {"192.0.2.121"}));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, Outcome::kUpdated) << describe(again);
  EXPECT_EQ(calls(before).at(0), "GET /client/v4/zones");
}

TEST_F(CloudflareTest, DestroyingTheProviderMidRequestNeverCallsBack) {
  // The fake holds its first answer until the provider is gone.
  struct Gate {
    std::mutex mutex;
    std::condition_variable changed;
    bool arrived = false;
    bool open = false;
  };
  auto gate = std::make_shared<Gate>();
  receiver_->set_handler([this, gate](const HttpRequest& req) {
    std::unique_lock lock(gate->mutex);
    gate->arrived = true;
    gate->changed.notify_all();
    gate->changed.wait_for(lock, seconds(10), [&] { return gate->open; });
    return fake_.handle(req);
  });
  auto loop = std::move(*EventLoop::create());
  auto http = std::move(*net::HttpClient::create(*loop));
  testing::OffsetClock clock;
  const auto c = config();
  auto provider =
      providers::make_cloudflare_provider(std::get<config::CloudflareProvider>(c.settings), c,
                                          providers::ProviderContext{*loop, *http, clock});
  ASSERT_TRUE(provider) << provider.error().message;
  bool called = false;
  (*provider)->reconcile(desired("gone.example.com", {"192.0.2.130"}),
                         [&](const providers::Reconciliation&) { called = true; });
  const bool arrived = testing::run_loop_until(
      *loop,
      [&] {
        std::lock_guard lock(gate->mutex);
        return gate->arrived;
      },
      milliseconds(10000));
  provider->reset();
  {
    std::lock_guard lock(gate->mutex);
    gate->open = true;
    gate->changed.notify_all();
  }
  ASSERT_TRUE(arrived);
  // The answer still comes back to the client, and goes nowhere.
  EXPECT_TRUE(testing::run_loop_until(
      *loop, [&] { return http->in_flight() == 0; }, milliseconds(10000)));
  EXPECT_FALSE(called);
  EXPECT_EQ(receiver_->requests().size(), 1u) << "nothing is sent after the provider is gone";
}

}  // namespace
}  // namespace ddnswatch
