#include "support/fake_powerdns.h"

#include <nlohmann/json.hpp>

namespace ddnswatch::testing {
namespace {

using nlohmann::json;

std::string zone_path(const std::string& zone) {
  return "/api/v1/servers/localhost/zones/" + zone + ".";
}

}  // namespace

FakePowerDns::FakePowerDns(std::string zone, std::string name, std::string api_key)
    : zone_(std::move(zone)),
      name_(std::move(name)),
      api_key_(std::move(api_key)),
      // civetweb drops the final dot of a path before matching routes.
      server_(ReceiverOptions{
          {zone_path(zone_), zone_path(zone_).substr(0, zone_path(zone_).size() - 1)},
          {"GET", "PATCH"},
          {}}) {
  server_.set_handler([this](const exporters::HttpRequest& r) { return handle(r); });
}

FakePowerDns::~FakePowerDns() { set_hold(Hold::kNothing); }

void FakePowerDns::set_hold(Hold hold) {
  std::lock_guard lock(mutex_);
  hold_ = hold;
  changed_.notify_all();
}

bool FakePowerDns::wait_held(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return holding_ > 0; });
}

void FakePowerDns::set_down(bool down) {
  std::lock_guard lock(mutex_);
  down_ = down;
}

int FakePowerDns::refused_while_down() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

std::vector<std::string> FakePowerDns::held() const {
  std::lock_guard lock(mutex_);
  return addresses_;
}

int FakePowerDns::writes_of(const std::string& address) const {
  std::lock_guard lock(mutex_);
  auto it = writes_.find(address);
  return it == writes_.end() ? 0 : it->second;
}

int FakePowerDns::total_writes() const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& [a, count] : writes_) n += count;
  return n;
}

exporters::HttpResponse FakePowerDns::handle(const exporters::HttpRequest& r) {
  auto it = r.headers.find("x-api-key");
  if (it == r.headers.end() || it->second != api_key_) {
    return {401, "application/json", R"({"error": "Unauthorized"})", {}};
  }
  std::unique_lock lock(mutex_);
  if (down_) {
    ++refused_;
    return {503, "text/plain", "Service Unavailable\n", {}};
  }
  if (r.method == "GET") {
    hold_back(lock, Hold::kReads);
    json records = json::array();
    for (const auto& a : addresses_) records.push_back({{"content", a}, {"disabled", false}});
    json rrsets = json::array();
    if (!addresses_.empty()) {
      rrsets.push_back({{"name", name_ + "."}, {"type", "A"}, {"ttl", 60}, {"records", records}});
    }
    return {200, "application/json", json{{"name", zone_ + "."}, {"rrsets", rrsets}}.dump(), {}};
  }
  json body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("rrsets") || body["rrsets"].size() != 1 ||
      body["rrsets"][0].value("changetype", "") != "REPLACE" ||
      body["rrsets"][0].value("name", "") != name_ + ".") {
    return {422, "application/json", R"({"error": "bad rrsets"})", {}};
  }
  std::vector<std::string> next;
  for (const auto& rec : body["rrsets"][0]["records"]) next.push_back(rec.value("content", ""));
  addresses_ = next;
  for (const auto& a : next) ++writes_[a];
  hold_back(lock, Hold::kWritesAfterApplying);
  return {204, "text/plain", "", {}};
}

void FakePowerDns::hold_back(std::unique_lock<std::mutex>& lock, Hold when) {
  if (hold_ != when) return;
  ++holding_;
  changed_.notify_all();
  changed_.wait_for(lock, std::chrono::seconds(20), [&] { return hold_ != when; });
  --holding_;
}

}  // namespace ddnswatch::testing
