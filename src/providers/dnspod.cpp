#include "providers/dnspod.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

#include "core/crypto.h"
#include "providers/dns_wire.h"
#include "providers/http_api.h"
#include "providers/record_set.h"

namespace ddnswatch::providers {

namespace {

std::string lower_trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Tc3Signature tc3_sign(const Tc3Request& request) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(lower_trimmed(name), lower_trimmed(value));
  }
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers.append(name).append(":").append(value).append("\n");
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  Tc3Signature s;
  s.canonical_request = fmt::format("POST\n/\n\n{}\n{}\n{}", canonical_headers, signed_headers,
                                    hex_encode(sha256(request.payload)));
  const std::string date =
      fmt::format("{:%Y-%m-%d}", fmt::gmtime(static_cast<std::time_t>(request.timestamp)));
  const std::string scope = fmt::format("{}/{}/tc3_request", date, request.service);
  s.string_to_sign = fmt::format("TC3-HMAC-SHA256\n{}\n{}\n{}", request.timestamp, scope,
                                 hex_encode(sha256(s.canonical_request)));
  const std::string key = hmac_sha256(
      hmac_sha256(hmac_sha256("TC3" + std::string(request.secret_key), date), request.service),
      "tc3_request");
  s.signature = hex_encode(hmac_sha256(key, s.string_to_sign));
  s.authorization = fmt::format("TC3-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                                request.secret_id, scope, signed_headers, s.signature);
  return s;
}

namespace {

using nlohmann::json;

constexpr const char* kDefaultEndpoint = "https://dnspod.tencentcloudapi.com";
constexpr const char* kApiVersion = "2021-03-23";
constexpr const char* kService = "dnspod";
constexpr const char* kContentType = "application/json; charset=utf-8";
// The default line: what every resolver gets unless a line for its ISP or region says
// otherwise. Records of other lines are left alone.
constexpr const char* kDefaultLine = "默认";
// DNSPod's own default, and the smallest TTL of its free plan.
constexpr uint32_t kDnspodDefaultTtl = 600;

/// "host:port" of an http(s) URL: what the Host header carries, and so what is signed.
std::string url_authority(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  url.remove_prefix(scheme + 3);
  return std::string(url.substr(0, url.find_first_of("/?#")));
}

/// Response.Error of an answer ({"Response": {"Error": {"Code", "Message"}, "RequestId"}}).
struct ApiError {
  std::string code;
  std::string message;
};

std::optional<ApiError> api_error(const json& response) {
  auto error = response.find("Error");
  if (error == response.end() || !error->is_object()) return std::nullopt;
  ApiError e;
  // string_at, not value(): a member of another type must not throw in a callback.
  e.code = string_at(*error, "Code");
  e.message = string_at(*error, "Message");
  return e;
}

}  // namespace

std::vector<HeldRecord> dnspod_records(const json& response, config::RecordType type,
                                       std::string_view sub_domain) {
  std::vector<HeldRecord> held;
  if (!response.is_object()) return held;
  const std::string type_text = config::to_string(type);
  const std::string sub(sub_domain);
  for (const auto& r : array_at(response, "RecordList")) {
    if (!r.is_object() || string_at(r, "Type") != type_text) continue;
    if (string_at(r, "Line", kDefaultLine) != kDefaultLine) continue;
    if (!dns::same_name(string_at(r, "Name", sub), sub_domain)) continue;
    auto id = r.find("RecordId");
    if (id == r.end() || !id->is_number_unsigned()) continue;
    HeldRecord h;
    h.id = std::to_string(id->get<uint64_t>());
    auto value = canonical_addresses({string_at(r, "Value")}, type);
    if (!value.empty()) h.value = value.front();
    h.ttl = ttl_at(r, "TTL");
    held.push_back(std::move(h));
  }
  return held;
}

namespace {

class Dnspod final : public HttpProvider {
 public:
  Dnspod(const config::DnspodProvider& config, const config::ProviderConfig& common,
         ProviderContext context, std::string endpoint)
      : HttpProvider(context, common.ca_file),
        zone_(config.zone),
        secret_id_(config.secret_id),
        secret_key_(config.secret_key),
        endpoint_(std::move(endpoint)),
        host_(url_authority(endpoint_)) {}

  std::string kind() const override { return "dnspod"; }

  void reconcile(const Desired& desired, Done done) override {
    auto run = std::make_shared<Run>();
    run->desired = desired;
    run->wanted = canonical_addresses(desired.addresses, desired.type);
    if (auto problem = desired_problem(desired, zone_, run->wanted)) {
      return report(std::move(done), make_reconciliation(Outcome::kRejected, *problem));
    }
    run->done = std::move(done);
    run->type = config::to_string(desired.type);
    run->sub_domain = dns::same_name(desired.name, zone_)
                          ? "@"
                          : desired.name.substr(0, desired.name.size() - zone_.size() - 1);
    call(run, "DescribeRecordList",
         {{"Domain", zone_},
          {"Subdomain", run->sub_domain},
          {"RecordType", run->type},
          {"Limit", 3000}},
         "reading the records", [this, run](const json& response) { on_read(run, response); });
  }

 private:
  /// One reconcile: what is wanted, the plan, and how far it got.
  struct Run {
    Desired desired;
    std::vector<std::string> wanted;
    std::string type;
    std::string sub_domain;  // the name relative to the zone, "@" for the apex
    RecordSetPlan plan;
    size_t next = 0;  // the next change of the plan to make
    Done done;
  };

  void on_read(const std::shared_ptr<Run>& run, const json& response) {
    // No record of the name and type comes back as the error ResourceNotFound.NoDataOfRecord,
    // handled by call(); an answer without a list means the same.
    std::vector<HeldRecord> held = dnspod_records(response, run->desired.type, run->sub_domain);
    run->plan = plan_record_set(held, run->wanted, run->desired.ttl, kDnspodDefaultTtl);
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
    std::string action;
    json params;
    std::string what;
    switch (c.kind) {
      case RecordChange::Kind::kUpdate:
        action = "ModifyRecord";
        params = {{"Domain", zone_},
                  {"SubDomain", run->sub_domain},
                  {"RecordType", run->type},
                  {"RecordLine", kDefaultLine},
                  {"Value", c.value},
                  {"RecordId", std::stoull(c.id)},
                  {"TTL", c.ttl}};
        what = fmt::format("changing record {} to {}", c.id, c.value);
        break;
      case RecordChange::Kind::kCreate:
        action = "CreateRecord";
        params = {{"Domain", zone_},         {"SubDomain", run->sub_domain},
                  {"RecordType", run->type}, {"RecordLine", kDefaultLine},
                  {"Value", c.value},        {"TTL", c.ttl}};
        what = fmt::format("adding {}", c.value);
        break;
      case RecordChange::Kind::kDelete:
        action = "DeleteRecord";
        params = {{"Domain", zone_}, {"RecordId", std::stoull(c.id)}};
        what = fmt::format("deleting record {}", c.id);
        break;
    }
    what += progress_note(run->next - 1, run->plan);
    call(run, action, params, std::move(what), [this, run](const json&) { next_change(run); });
  }

  /// Signs and sends one call; `then` gets the answer's Response object when it is a
  /// success, else the run ends with what went wrong.
  void call(const std::shared_ptr<Run>& run, const std::string& action, const json& params,
            std::string what, std::function<void(const json&)> then) {
    const auto timestamp =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.wall_now().time_since_epoch())
            .count();
    net::HttpRequest request;
    request.method = "POST";
    request.url = endpoint_ + "/";
    request.body = params.dump();
    const Tc3Signature signature = tc3_sign(
        Tc3Request{kService,
                   secret_id_,
                   secret_key_.reveal(),
                   static_cast<int64_t>(timestamp),
                   {{"Content-Type", kContentType}, {"Host", host_}, {"X-TC-Action", action}},
                   request.body});
    request.headers = {{"Authorization", signature.authorization},
                       {"Content-Type", kContentType},
                       {"Host", host_},
                       {"X-TC-Action", action},
                       {"X-TC-Timestamp", std::to_string(timestamp)},
                       {"X-TC-Version", kApiVersion}};
    send(std::move(request), [this, run, action, what = std::move(what),
                              then = std::move(then)](const HttpExchange& x) {
      if (!x.answer.ok()) {
        auto r = http_failure(x.answer, what, x.answer.transferred() ? describe_body(x.answer) : "",
                              clock_.wall_now());
        r.before = run->plan.before;
        return run->done(std::move(r));
      }
      auto body = json_body(x.answer);
      if (!body || !body->is_object() || !body->contains("Response") ||
          !(*body)["Response"].is_object()) {
        return run->done(
            make_reconciliation(Outcome::kFailed,
                                fmt::format("{}: the answer is not Tencent Cloud's JSON ({})", what,
                                            describe_body(x.answer)),
                                run->plan.before));
      }
      const json& response = (*body)["Response"];
      if (auto error = api_error(response)) {
        if (action == "DescribeRecordList" && error->code == "ResourceNotFound.NoDataOfRecord") {
          return then(json::object());
        }
        Reconciliation r = failure(x, *error, what);
        r.before = run->plan.before;
        return run->done(std::move(r));
      }
      then(response);
    });
  }

  /// How an API error ends the run, by Tencent's error code.
  Reconciliation failure(const HttpExchange& x, const ApiError& error,
                         const std::string& what) const {
    const std::string& code = error.code;
    const std::string detail = fmt::format("{}: {}", code, shorten_message(error.message));
    if (code == "AuthFailure.SignatureExpire") {
      if (auto skew = date_skew(x.answer, x.sent, x.received)) {
        Reconciliation r = make_reconciliation(
            Outcome::kRejected,
            fmt::format("{}: Tencent Cloud refused our timestamp ({}): {}; Tencent accepts 5 "
                        "minutes; fix this machine's clock (NTP)",
                        what, code, describe_skew(*skew)));
        r.clock_skew = *skew;
        return r;
      }
      // Without the server's time the skew cannot be shown; retry rather than latch.
      return make_reconciliation(
          Outcome::kFailed,
          fmt::format("{}: Tencent Cloud refused our timestamp ({}): this machine's clock is "
                      "more than 5 minutes off; fix it (NTP)",
                      what, code));
    }
    if (code == "AuthFailure.SignatureFailure") {
      return make_reconciliation(
          Outcome::kRejected,
          fmt::format("{}: Tencent Cloud refused the signature ({}): the SecretKey is not the "
                      "one of SecretId {}",
                      what, code, secret_id_));
    }
    if (code == "AuthFailure.SecretIdNotFound" || code == "AuthFailure.InvalidSecretId") {
      return make_reconciliation(
          Outcome::kRejected,
          fmt::format("{}: Tencent Cloud does not know SecretId {}, or it is disabled ({})", what,
                      secret_id_, code));
    }
    if (code.starts_with("AuthFailure") || code.starts_with("UnauthorizedOperation") ||
        code.starts_with("OperationDenied")) {
      return make_reconciliation(
          Outcome::kRejected,
          fmt::format("{}: the key may not do this ({}); its user needs permission for DNSPod "
                      "(e.g. QcloudDNSPodFullAccess)",
                      what, detail));
    }
    if (code.starts_with("RequestLimitExceeded") || code == "FailedOperation.FrequencyLimit") {
      Reconciliation r = make_reconciliation(
          Outcome::kRateLimited,
          fmt::format("{}: Tencent Cloud asks us to slow down ({})", what, detail));
      if (auto h = x.answer.header("retry-after")) {
        r.retry_after = net::parse_retry_after(*h, clock_.wall_now());
      }
      return r;
    }
    if (code == "InvalidParameter.DomainNotExist" || code == "ResourceNotFound.NoDataOfDomain" ||
        code == "InvalidParameterValue.DomainNotExists") {
      return make_reconciliation(
          Outcome::kRejected,
          fmt::format("{}: zone {} is not in this DNSPod account ({})", what, zone_, detail));
    }
    if (code.starts_with("InternalError") || code.starts_with("ServiceUnavailable") ||
        code.starts_with("ResourceUnavailable") || code.starts_with("FailedOperation")) {
      return make_reconciliation(Outcome::kFailed, fmt::format("{}: {}", what, detail));
    }
    // Parameters, limits, unsupported operations: the same request would fail again.
    return make_reconciliation(Outcome::kRejected,
                               fmt::format("{}: Tencent Cloud refused it ({})", what, detail));
  }

  std::string zone_;
  std::string secret_id_;
  Secret secret_key_;
  std::string endpoint_;  // no final slash
  std::string host_;      // the endpoint's host[:port], sent and signed as Host
};

}  // namespace

Result<std::unique_ptr<Provider>> make_dnspod_provider(const config::DnspodProvider& config,
                                                       const config::ProviderConfig& common,
                                                       ProviderContext context) {
  if (config.zone.empty() || !dns::encode_name(config.zone)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("zone \"{}\" is not a DNS name", config.zone));
  }
  if (config.secret_id.empty() || config.secret_key.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "dnspod needs a SecretId and its SecretKey");
  }
  std::string endpoint = common.endpoint.value_or(kDefaultEndpoint);
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (url_authority(endpoint).empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("endpoint \"{}\" has no host", endpoint));
  }
  return std::unique_ptr<Provider>(new Dnspod(config, common, context, std::move(endpoint)));
}

}  // namespace ddnswatch::providers
