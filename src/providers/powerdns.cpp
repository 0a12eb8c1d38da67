#include "providers/powerdns.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/crypto.h"
#include "providers/dns_wire.h"
#include "providers/http_api.h"

namespace ddnswatch::providers {
namespace {

using nlohmann::json;

/// PowerDNS's own words from an error answer ({"error": "..."}), if any.
std::string api_error(const net::HttpResult& answer) {
  auto j = json_body(answer);
  if (j && j->is_object() && j->contains("error") && (*j)["error"].is_string()) {
    return (*j)["error"].get<std::string>();
  }
  return {};
}

}  // namespace

std::optional<PowerdnsRrset> powerdns_rrset(const json& zone, config::RecordType type,
                                            std::string_view owner) {
  if (!zone.is_object()) return std::nullopt;
  auto rrsets = zone.find("rrsets");
  if (rrsets == zone.end() || !rrsets->is_array()) return std::nullopt;
  const std::string type_text = config::to_string(type);
  PowerdnsRrset out;
  for (const auto& rrset : *rrsets) {
    if (!rrset.is_object() || string_at(rrset, "type") != type_text) continue;
    if (!dns::same_name(string_at(rrset, "name"), owner)) continue;
    if (auto ttl = ttl_at(rrset, "ttl")) out.current.ttl = ttl;
    std::vector<std::string> contents;
    for (const auto& record : array_at(rrset, "records")) {
      if (!record.is_object()) continue;
      auto content = record.find("content");
      if (content == record.end() || !content->is_string()) continue;
      if (true_at(record, "disabled")) {
        out.disabled = true;
        continue;
      }
      contents.push_back(content->get<std::string>());
    }
    out.current.addresses = canonical_addresses(contents, type);
  }
  return out;
}

namespace {

class PowerDns final : public HttpProvider {
 public:
  PowerDns(const config::PowerdnsProvider& config, const config::ProviderConfig& common,
           ProviderContext context)
      : HttpProvider(context, common.ca_file),
        zone_(config.zone),
        api_key_(config.api_key),
        zone_url_(fmt::format("{}/api/v1/servers/{}/zones/{}.", config.url,
                              percent_encode(config.server_id), percent_encode(config.zone))) {}

  std::string kind() const override { return "powerdns"; }

  void reconcile(const Desired& desired, Done done) override {
    auto wanted = canonical_addresses(desired.addresses, desired.type);
    if (auto problem = desired_problem(desired, zone_, wanted)) {
      return report(std::move(done), make_reconciliation(Outcome::kRejected, *problem));
    }
    const std::string type = config::to_string(desired.type);
    net::HttpRequest read;
    read.url = fmt::format("{}?rrset_name={}.&rrset_type={}", zone_url_,
                           percent_encode(desired.name), type);
    read.headers = {{"X-API-Key", api_key_.reveal()}, {"Accept", "application/json"}};
    // A zone's whole content comes back from PowerDNS before 4.8 (it ignores the filter).
    read.max_response_bytes = 64 << 20;
    send(std::move(read), [this, desired, wanted, type, done = std::move(done)](HttpExchange x) {
      on_read(desired, wanted, type, std::move(done), x);
    });
  }

 private:
  void on_read(const Desired& desired, const std::vector<std::string>& wanted,
               const std::string& type, Done done, const HttpExchange& x) {
    const WallTime now = clock_.wall_now();
    if (x.answer.transferred() && x.answer.status == 404) {
      const std::string why = api_error(x.answer);
      return done(make_reconciliation(
          Outcome::kRejected, fmt::format("zone {} is not served by this PowerDNS (HTTP 404{}{})",
                                          zone_, why.empty() ? "" : ": ", why)));
    }
    if (!x.answer.ok()) {
      return done(http_failure(x.answer, "reading the zone", api_error(x.answer), now));
    }
    const std::string owner = desired.name + ".";
    auto zone = json_body(x.answer);
    auto rrset = zone ? powerdns_rrset(*zone, desired.type, owner) : std::nullopt;
    if (!rrset) {
      return done(make_reconciliation(
          Outcome::kFailed,
          "reading the zone: the answer is not a PowerDNS zone (" + describe_body(x.answer) + ")"));
    }
    const RrsetState& current = rrset->current;
    const bool disabled = rrset->disabled;
    UpdatePlan plan = plan_update(current, wanted, desired.ttl);
    if (!plan.write && !disabled) {
      return done(make_reconciliation(Outcome::kUnchanged, unchanged_message(desired, current),
                                      current.addresses));
    }
    json records = json::array();
    for (const auto& a : wanted) records.push_back({{"content", a}, {"disabled", false}});
    json body = {{"rrsets", json::array({{{"name", owner},
                                          {"type", type},
                                          {"ttl", plan.ttl},
                                          {"changetype", "REPLACE"},
                                          {"records", records}}})}};
    net::HttpRequest write;
    write.method = "PATCH";
    write.url = zone_url_;
    write.headers = {{"X-API-Key", api_key_.reveal()}, {"Content-Type", "application/json"}};
    write.body = body.dump();
    std::string message = updated_message(desired, wanted, plan.ttl, current.addresses);
    send(std::move(write), [this, before = current.addresses, message = std::move(message),
                            done = std::move(done)](HttpExchange w) {
      if (!w.answer.ok()) {
        auto r =
            http_failure(w.answer, "replacing the RRset", api_error(w.answer), clock_.wall_now());
        r.before = before;
        return done(std::move(r));
      }
      done(make_reconciliation(Outcome::kUpdated, message, before));
    });
  }

  std::string zone_;
  Secret api_key_;
  std::string zone_url_;
};

}  // namespace

Result<std::unique_ptr<Provider>> make_powerdns_provider(const config::PowerdnsProvider& config,
                                                         const config::ProviderConfig& common,
                                                         ProviderContext context) {
  if (config.zone.empty() || !dns::encode_name(config.zone)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("zone \"{}\" is not a DNS name", config.zone));
  }
  return std::unique_ptr<Provider>(new PowerDns(config, common, context));
}

}  // namespace ddnswatch::providers
