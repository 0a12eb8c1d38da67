#include "providers/alidns.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "core/crypto.h"
#include "providers/dns_wire.h"
#include "providers/http_api.h"
#include "providers/record_set.h"

namespace ddnswatch::providers {

std::string alibaba_canonical_query(RpcParameters parameters) {
  std::sort(parameters.begin(), parameters.end());
  std::string query;
  for (const auto& [name, value] : parameters) {
    if (!query.empty()) query += '&';
    query += percent_encode(name) + "=" + percent_encode(value);
  }
  return query;
}

std::string alibaba_rpc_signature(std::string_view method, const RpcParameters& parameters,
                                  std::string_view access_key_secret) {
  const std::string to_sign =
      fmt::format("{}&%2F&{}", method, percent_encode(alibaba_canonical_query(parameters)));
  return base64_encode(hmac_sha1(std::string(access_key_secret) + "&", to_sign));
}

namespace {

using nlohmann::json;

constexpr const char* kDefaultEndpoint = "https://alidns.aliyuncs.com";
constexpr const char* kApiVersion = "2015-01-09";
// Alibaba's default line: the records every resolver gets unless a line for its ISP or region
// says otherwise. Records of other lines are left alone.
constexpr const char* kDefaultLine = "default";
// What Alibaba gives a record when none is asked for; the free edition's smallest TTL.
constexpr uint32_t kAlidnsDefaultTtl = 600;

/// The error fields of an answer ({"RequestId", "HostId", "Code", "Message", "Recommend"}).
struct ApiError {
  std::string code;
  std::string message;
};

std::optional<ApiError> api_error(const std::optional<json>& body) {
  if (!body || !body->is_object()) return std::nullopt;
  auto code = body->find("Code");
  if (code == body->end() || !code->is_string()) return std::nullopt;
  ApiError e;
  e.code = code->get<std::string>();
  auto message = body->find("Message");
  if (message != body->end() && message->is_string()) e.message = message->get<std::string>();
  return e;
}

// Ids come as strings; accept numbers too.
std::string id_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  return {};
}

}  // namespace

std::optional<std::vector<HeldRecord>> alidns_records(const json& body, config::RecordType type,
                                                      std::string_view rr) {
  if (!body.is_object()) return std::nullopt;
  auto domain_records = body.find("DomainRecords");
  if (domain_records == body.end() || !domain_records->is_object()) return std::nullopt;
  auto list = domain_records->find("Record");
  if (list == domain_records->end() || !list->is_array()) return std::nullopt;
  const std::string type_text = config::to_string(type);
  std::vector<HeldRecord> held;
  for (const auto& r : *list) {
    if (!r.is_object() || string_at(r, "Type") != type_text) continue;
    if (string_at(r, "Line", kDefaultLine) != kDefaultLine) continue;
    if (!dns::same_name(string_at(r, "RR"), rr)) continue;
    HeldRecord h;
    h.id = id_text(r.value("RecordId", json()));
    auto value = canonical_addresses({string_at(r, "Value")}, type);
    if (!value.empty()) h.value = value.front();
    h.ttl = ttl_at(r, "TTL");
    if (!h.id.empty()) held.push_back(std::move(h));
  }
  return held;
}

namespace {

class Alidns final : public HttpProvider {
 public:
  Alidns(const config::AlidnsProvider& config, const config::ProviderConfig& common,
         ProviderContext context, std::string endpoint)
      : HttpProvider(context, common.ca_file),
        zone_(config.zone),
        access_key_id_(config.access_key_id),
        access_key_secret_(config.access_key_secret),
        endpoint_(std::move(endpoint)),
        random_(std::random_device{}()) {}

  std::string kind() const override { return "alidns"; }

  void reconcile(const Desired& desired, Done done) override {
    auto run = std::make_shared<Run>();
    run->desired = desired;
    run->wanted = canonical_addresses(desired.addresses, desired.type);
    if (auto problem = desired_problem(desired, zone_, run->wanted)) {
      return report(std::move(done), make_reconciliation(Outcome::kRejected, *problem));
    }
    run->done = std::move(done);
    run->type = config::to_string(desired.type);
    run->rr = dns::same_name(desired.name, zone_)
                  ? "@"
                  : desired.name.substr(0, desired.name.size() - zone_.size() - 1);
    call(run,
         {{"Action", "DescribeSubDomainRecords"},
          {"DomainName", zone_},
          {"SubDomain", desired.name},
          {"Type", run->type},
          {"PageSize", "500"}},
         "reading the records", [this, run](const json& body) { on_read(run, body); });
  }

 private:
  /// One reconcile: what is wanted, the plan, and how far it got.
  struct Run {
    Desired desired;
    std::vector<std::string> wanted;
    std::string type;
    std::string rr;  // the name relative to the zone, "@" for the apex
    RecordSetPlan plan;
    size_t next = 0;  // the next change of the plan to make
    Done done;
  };

  void on_read(const std::shared_ptr<Run>& run, const json& body) {
    auto held = alidns_records(body, run->desired.type, run->rr);
    if (!held) {
      return run->done(make_reconciliation(
          Outcome::kFailed, "reading the records: the answer has no DomainRecords.Record list"));
    }
    run->plan = plan_record_set(*held, run->wanted, run->desired.ttl, kAlidnsDefaultTtl);
    if (run->plan.changes.empty()) {
      return run->done(plan_unchanged(run->desired, run->plan));
    }
    next_change(run);
  }

  void next_change(const std::shared_ptr<Run>& run) {
    if (run->next == run->plan.changes.size()) {
      return run->done(plan_done(run->desired, run->wanted, run->plan));
    }
    const RecordChange& c = run->plan.changes[run->next++];
    RpcParameters params;
    std::string what;
    switch (c.kind) {
      case RecordChange::Kind::kUpdate:
        params = {{"Action", "UpdateDomainRecord"},
                  {"RecordId", c.id},
                  {"RR", run->rr},
                  {"Type", run->type},
                  {"Value", c.value},
                  {"TTL", std::to_string(c.ttl)}};
        what = fmt::format("changing record {} to {}", c.id, c.value);
        break;
      case RecordChange::Kind::kCreate:
        params = {
            {"Action", "AddDomainRecord"}, {"DomainName", zone_}, {"RR", run->rr},
            {"Type", run->type},           {"Value", c.value},    {"TTL", std::to_string(c.ttl)}};
        what = fmt::format("adding {}", c.value);
        break;
      case RecordChange::Kind::kDelete:
        params = {{"Action", "DeleteDomainRecord"}, {"RecordId", c.id}};
        what = fmt::format("deleting record {}", c.id);
        break;
    }
    what += progress_note(run->next - 1, run->plan);
    call(run, std::move(params), std::move(what), [this, run](const json&) { next_change(run); });
  }

  /// Signs and sends one call; `then` gets the answer's JSON when it is a success, else the
  /// run ends with what went wrong.
  void call(const std::shared_ptr<Run>& run, RpcParameters params, std::string what,
            std::function<void(const json&)> then) {
    const WallTime now = clock_.wall_now();
    params.insert(params.end(), {{"Format", "JSON"},
                                 {"Version", kApiVersion},
                                 {"AccessKeyId", access_key_id_},
                                 {"SignatureMethod", "HMAC-SHA1"},
                                 {"SignatureVersion", "1.0"},
                                 {"SignatureNonce", nonce()},
                                 {"Timestamp", format_utc(now)}});
    const std::string signature = alibaba_rpc_signature("GET", params, access_key_secret_.reveal());
    net::HttpRequest request;
    request.url = fmt::format("{}/?{}&Signature={}", endpoint_, alibaba_canonical_query(params),
                              percent_encode(signature));
    request.headers = {{"Accept", "application/json"}};
    send(std::move(request),
         [this, run, what = std::move(what), then = std::move(then)](const HttpExchange& x) {
           auto body = json_body(x.answer);
           if (!x.answer.ok() || api_error(body)) {
             Reconciliation r = failure(x, body, what);
             r.before = run->plan.before;
             return run->done(std::move(r));
           }
           if (!body || !body->is_object()) {
             return run->done(
                 make_reconciliation(Outcome::kFailed,
                                     fmt::format("{}: the answer is not Alibaba Cloud's JSON ({})",
                                                 what, describe_body(x.answer)),
                                     run->plan.before));
           }
           then(*body);
         });
  }

  /// How an answer that is not a success ends the run, by Alibaba's error code when there is
  /// one, else by the HTTP status.
  Reconciliation failure(const HttpExchange& x, const std::optional<json>& body,
                         const std::string& what) const {
    const WallTime now = clock_.wall_now();
    auto error = api_error(body);
    if (!x.answer.transferred() || !error) {
      return http_failure(x.answer, what, x.answer.transferred() ? describe_body(x.answer) : "",
                          now);
    }
    const std::string& code = error->code;
    if (code == "InvalidTimeStamp.Expired") {
      if (auto skew = date_skew(x.answer, x.sent, x.received)) {
        Reconciliation r = make_reconciliation(
            Outcome::kRejected,
            fmt::format("{}: Alibaba Cloud refused our timestamp ({}): {}; Alibaba accepts 15 "
                        "minutes; fix this machine's clock (NTP)",
                        what, code, describe_skew(*skew)));
        r.clock_skew = *skew;
        return r;
      }
      // Without the server's time the skew cannot be shown; retry rather than latch.
      return make_reconciliation(
          Outcome::kFailed,
          fmt::format("{}: Alibaba Cloud refused our timestamp ({}): this machine's clock is "
                      "more than 15 minutes off; fix it (NTP)",
                      what, code));
    }
    if (code.starts_with("Throttling")) {
      Reconciliation r = make_reconciliation(
          Outcome::kRateLimited, fmt::format("{}: Alibaba Cloud asks us to slow down ({}: {})",
                                             what, code, shorten_message(error->message)));
      if (auto h = x.answer.header("retry-after")) r.retry_after = net::parse_retry_after(*h, now);
      return r;
    }
    if (code == "SignatureDoesNotMatch" || code == "IncompleteSignature") {
      return make_reconciliation(
          Outcome::kRejected,
          fmt::format("{}: Alibaba Cloud refused the signature ({}): the AccessKey secret is "
                      "not the one of AccessKey ID {}",
                      what, code, access_key_id_));
    }
    if (code.starts_with("InvalidAccessKeyId")) {
      return make_reconciliation(
          Outcome::kRejected, fmt::format("{}: Alibaba Cloud does not know AccessKey ID {}, or it "
                                          "is disabled ({})",
                                          what, access_key_id_, code));
    }
    if (code.starts_with("Forbidden") || code == "ActionUnauthorized" || code == "NoPermission") {
      return make_reconciliation(
          Outcome::kRejected,
          fmt::format("{}: the AccessKey may not do this ({}: {}); its RAM user needs "
                      "permission for Alibaba Cloud DNS (e.g. AliyunDNSFullAccess)",
                      what, code, shorten_message(error->message)));
    }
    if (code.starts_with("InvalidDomainName") || code == "IncorrectDomainUser" ||
        code == "DomainNotExist") {
      return make_reconciliation(
          Outcome::kRejected,
          fmt::format("{}: zone {} is not in this Alibaba Cloud account ({}: {})", what, zone_,
                      code, shorten_message(error->message)));
    }
    if (code == "ServiceUnavailable" || code == "InternalError" || code == "SignatureNonceUsed") {
      return make_reconciliation(Outcome::kFailed,
                                 fmt::format("{}: HTTP {}, {}: {}", what, x.answer.status, code,
                                             shorten_message(error->message)));
    }
    return http_failure(x.answer, what,
                        fmt::format("{}: {}", code, shorten_message(error->message)), now);
  }

  // Unique per request, as Alibaba requires (a repeated nonce is refused as a replay).
  std::string nonce() {
    std::string bytes;
    for (int i = 0; i < 2; ++i) {
      const uint64_t v = random_();
      for (int b = 0; b < 8; ++b) bytes += static_cast<char>((v >> (8 * b)) & 0xff);
    }
    return hex_encode(bytes);
  }

  std::string zone_;
  std::string access_key_id_;
  Secret access_key_secret_;
  std::string endpoint_;  // no final slash
  std::mt19937_64 random_;
};

}  // namespace

Result<std::unique_ptr<Provider>> make_alidns_provider(const config::AlidnsProvider& config,
                                                       const config::ProviderConfig& common,
                                                       ProviderContext context) {
  if (config.zone.empty() || !dns::encode_name(config.zone)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("zone \"{}\" is not a DNS name", config.zone));
  }
  if (config.access_key_id.empty() || config.access_key_secret.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "alidns needs an AccessKey ID and its AccessKey secret");
  }
  std::string endpoint = common.endpoint.value_or(kDefaultEndpoint);
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return std::unique_ptr<Provider>(new Alidns(config, common, context, std::move(endpoint)));
}

}  // namespace ddnswatch::providers
