#include "providers/cloudflare.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "core/crypto.h"
#include "providers/dns_wire.h"
#include "providers/http_api.h"

namespace ddnswatch::providers {
namespace {

using nlohmann::json;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kDefaultBase = "https://api.cloudflare.com/client/v4";
// Over 1200 requests in 5 minutes Cloudflare refuses every call of the token for 5 minutes,
// whatever Retry-After says: coming back earlier only prolongs the block.
constexpr Duration kRateLimitBlock = minutes(5);
// What one list request asks for; a name with more records than this is not a DDNS record.
constexpr int kPerPage = 100;

// Cloudflare's codes for a token that is invalid, lacks a permission, or is badly formed.
bool is_auth_code(int64_t code) {
  return code == 9109 || code == 10000 || code == 9103 || code == 6003 || code == 6111;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// An answer in Cloudflare's envelope: {success, errors: [{code, message, error_chain}], ...}.
struct Envelope {
  bool success = false;
  json result;
  json result_info;
  std::vector<std::pair<int64_t, std::string>> errors;  // the chains flattened, in order
};

void collect_errors(const json& list, std::vector<std::pair<int64_t, std::string>>& out) {
  if (!list.is_array()) return;
  for (const auto& e : list) {
    if (!e.is_object()) continue;
    out.emplace_back(integer_at(e, "code").value_or(0), string_at(e, "message"));
    if (e.contains("error_chain")) collect_errors(e["error_chain"], out);
  }
}

std::optional<Envelope> envelope(const net::HttpResult& answer) {
  auto j = json_body(answer);
  if (!j || !j->is_object() || !j->contains("success") || !(*j)["success"].is_boolean()) {
    return std::nullopt;
  }
  Envelope e;
  e.success = (*j)["success"].get<bool>();
  if (j->contains("result")) e.result = (*j)["result"];
  if (j->contains("result_info")) e.result_info = (*j)["result_info"];
  if (j->contains("errors")) collect_errors((*j)["errors"], e.errors);
  return e;
}

/// "9109 Invalid access token; 1004 DNS Validation Error" (Cloudflare's own words).
std::string error_text(const Envelope& e) {
  std::vector<std::string> parts;
  for (const auto& [code, message] : e.errors) {
    parts.push_back(message.empty() ? std::to_string(code) : fmt::format("{} {}", code, message));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::string ttl_text(int64_t ttl) {
  return ttl == 1 ? std::string("automatic") : std::to_string(ttl);
}

/// The state a reconcile leaves, for its message: "TTL 300" or "TTL automatic, proxied".
std::string set_text(int64_t ttl, bool proxied) {
  return proxied ? "TTL automatic, proxied by Cloudflare" : "TTL " + ttl_text(ttl);
}

/// "1 changed, 1 added, 1 removed".
std::string changes_text(const std::vector<CloudflareChange>& changes) {
  size_t patched = 0, created = 0, deleted = 0;
  for (const auto& c : changes) {
    if (c.kind == CloudflareChange::Kind::kPatch) ++patched;
    if (c.kind == CloudflareChange::Kind::kCreate) ++created;
    if (c.kind == CloudflareChange::Kind::kDelete) ++deleted;
  }
  std::vector<std::string> parts;
  if (patched > 0) parts.push_back(fmt::format("{} changed", patched));
  if (created > 0) parts.push_back(fmt::format("{} added", created));
  if (deleted > 0) parts.push_back(fmt::format("{} removed", deleted));
  return fmt::format("{}", fmt::join(parts, ", "));
}

class Cloudflare final : public HttpProvider {
 public:
  Cloudflare(const config::CloudflareProvider& config, const config::ProviderConfig& common,
             ProviderContext context)
      : HttpProvider(context, common.ca_file),
        zone_(lower(config.zone)),
        token_(config.token),
        base_(common.endpoint.value_or(kDefaultBase)) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  std::string kind() const override { return "cloudflare"; }

  void reconcile(const Desired& desired, Done done) override {
    auto job = std::make_shared<Job>();
    job->desired = desired;
    job->desired.name = lower(desired.name);
    job->wanted = canonical_addresses(desired.addresses, desired.type);
    job->done = std::move(done);
    if (auto problem = desired_problem(job->desired, zone_, job->wanted)) {
      return report(std::move(job->done), make_reconciliation(Outcome::kRejected, *problem));
    }
    if (zone_id_.empty()) return find_zone(job);
    read_records(job);
  }

 private:
  /// One reconcile(), carried from request to request.
  struct Job {
    Desired desired;
    std::vector<std::string> wanted;
    Done done;
    std::vector<std::string> before;
    std::vector<CloudflareChange> changes;
    size_t next = 0;  // the change to send next
    int64_t ttl = 1;  // for the message: the set's TTL afterwards
    bool proxied = false;
  };

  net::HttpRequest request(std::string method, std::string url, std::string body = {}) const {
    net::HttpRequest r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.headers = {{"Authorization", "Bearer " + token_.reveal()}, {"Accept", "application/json"}};
    if (!body.empty()) {
      r.headers.emplace_back("Content-Type", "application/json");
      r.body = std::move(body);
    }
    return r;
  }

  std::string records_url() const {
    return fmt::format("{}/zones/{}/dns_records", base_, percent_encode(zone_id_));
  }

  /// How an answer that is not a success ends the reconciliation; nullopt for a success in
  /// Cloudflare's envelope (returned in `out`).
  std::optional<Reconciliation> failure(const HttpExchange& x, const std::string& what,
                                        Envelope& out) const {
    const net::HttpResult& a = x.answer;
    const WallTime now = clock_.wall_now();
    if (!a.transferred()) return http_failure(a, what, "", now);
    auto e = envelope(a);
    const std::string detail = e ? error_text(*e) : describe_body(a);
    if (a.status == 429) {
      Reconciliation r = http_failure(a, what, detail, now);
      r.retry_after = std::max(r.retry_after.value_or(Duration::zero()),
                               std::chrono::duration_cast<Duration>(kRateLimitBlock));
      r.message = fmt::format(
          "{}: HTTP 429, Cloudflare asks us to slow down{}{} (it blocks a token for 5 minutes "
          "after 1200 requests in 5 minutes); next try in {} s",
          what, detail.empty() ? "" : ": ", detail,
          std::chrono::duration_cast<seconds>(*r.retry_after).count());
      return r;
    }
    if (a.status >= 500) return http_failure(a, what, detail, now);
    if (a.status == 404) {
      // A record or zone id that went away meanwhile (deleted by hand): the next reconcile
      // reads afresh, so this is worth another try.
      return make_reconciliation(Outcome::kFailed,
                                 fmt::format("{}: HTTP 404{}{}; it is read again next time", what,
                                             detail.empty() ? "" : ": ", detail));
    }
    bool auth = a.status == 401 || a.status == 403;
    if (e) {
      for (const auto& err : e->errors) auth = auth || is_auth_code(err.first);
    }
    if (auth) {
      return make_reconciliation(
          Outcome::kRejected,
          fmt::format("{}: Cloudflare refused the token (HTTP {}{}{}): it must be an API token "
                      "with the permission Zone.DNS.Edit for zone {}",
                      what, a.status, detail.empty() ? "" : ": ", detail, zone_));
    }
    if (!e) {
      if (!a.ok()) return http_failure(a, what, detail, now);
      return make_reconciliation(
          Outcome::kFailed,
          fmt::format("{}: the answer is not from Cloudflare's API ({})", what, detail));
    }
    if (!a.ok() || !e->success) {
      if (!a.ok() && a.status != 400 && a.status != 405 && a.status != 422) {
        return http_failure(a, what, detail, now);  // 408, 409, 425 are worth another try
      }
      return make_reconciliation(
          Outcome::kRejected, fmt::format("{}: Cloudflare refused it (HTTP {}: {})", what, a.status,
                                          detail.empty() ? "no error given" : detail));
    }
    out = std::move(*e);
    return std::nullopt;
  }

  void finish(const std::shared_ptr<Job>& job, Reconciliation r) {
    if (r.before.empty()) r.before = job->before;
    job->done(std::move(r));
  }

  void find_zone(const std::shared_ptr<Job>& job) {
    send(request("GET", fmt::format("{}/zones?name={}", base_, percent_encode(zone_))),
         [this, job](const HttpExchange& x) {
           Envelope e;
           if (auto f = failure(x, "looking up the zone", e)) return finish(job, std::move(*f));
           if (!e.result.is_array()) {
             return finish(job, make_reconciliation(
                                    Outcome::kFailed,
                                    "looking up the zone: the answer holds no list of zones (" +
                                        describe_body(x.answer) + ")"));
           }
           for (const auto& z : e.result) {
             if (z.is_object() && !string_at(z, "id").empty() &&
                 dns::same_name(string_at(z, "name"), zone_)) {
               zone_id_ = string_at(z, "id");
               return read_records(job);
             }
           }
           finish(job,
                  make_reconciliation(
                      Outcome::kRejected,
                      fmt::format("zone {} not found: the token cannot see it, or it is not in "
                                  "this account",
                                  zone_)));
         });
  }

  void read_records(const std::shared_ptr<Job>& job) {
    const std::string type = config::to_string(job->desired.type);
    send(request("GET", fmt::format("{}?type={}&name={}&per_page={}", records_url(), type,
                                    percent_encode(job->desired.name), kPerPage)),
         [this, job](const HttpExchange& x) {
           if (x.answer.transferred() && x.answer.status == 404) {
             // The zone was deleted, or deleted and added again under a new id.
             zone_id_.clear();
           }
           Envelope e;
           if (auto f = failure(x, "reading the records", e)) return finish(job, std::move(*f));
           if (!e.result.is_array()) {
             return finish(job, make_reconciliation(
                                    Outcome::kFailed,
                                    "reading the records: the answer holds no list of records (" +
                                        describe_body(x.answer) + ")"));
           }
           if (e.result_info.is_object() &&
               integer_at(e.result_info, "total_pages").value_or(1) > 1) {
             return finish(job, make_reconciliation(
                                    Outcome::kRejected,
                                    fmt::format("{} has more than {} records; ddnswatch manages "
                                                "at most {} addresses per name",
                                                record_text(job->desired), kPerPage, kPerPage)));
           }
           // Filtered again: a name or type the query did not ask for is never touched.
           std::vector<CloudflareRecord> held =
               cloudflare_records(e.result, job->desired.type, job->desired.name);
           std::vector<std::string> contents;
           for (const auto& r : held) contents.push_back(r.content);
           job->before = canonical_addresses(contents, job->desired.type);
           job->changes = plan_cloudflare_changes(held, job->wanted, job->desired.ttl);
           job->proxied = std::any_of(held.begin(), held.end(),
                                      [](const CloudflareRecord& r) { return r.proxied; });
           job->ttl = job->proxied       ? 1
                      : job->desired.ttl ? *job->desired.ttl
                      : !held.empty()    ? held.front().ttl
                                         : 1;
           if (job->changes.empty()) {
             Reconciliation r = make_reconciliation(
                 Outcome::kUnchanged,
                 fmt::format("{} already holds {} ({})", record_text(job->desired),
                             join_addresses(job->before), set_text(job->ttl, job->proxied)),
                 job->before);
             r.proxied = job->proxied;
             return finish(job, std::move(r));
           }
           write_next(job);
         });
  }

  void write_next(const std::shared_ptr<Job>& job) {
    if (job->next == job->changes.size()) {
      Reconciliation r = make_reconciliation(
          Outcome::kUpdated,
          fmt::format("{} now holds {} ({}); it held {} ({})", record_text(job->desired),
                      join_addresses(job->wanted), set_text(job->ttl, job->proxied),
                      join_addresses(job->before), changes_text(job->changes)),
          job->before);
      r.proxied = job->proxied;
      return finish(job, std::move(r));
    }
    const CloudflareChange& c = job->changes[job->next];
    net::HttpRequest req;
    std::string what;
    if (c.kind == CloudflareChange::Kind::kCreate) {
      json body = {{"type", config::to_string(job->desired.type)},
                   {"name", job->desired.name},
                   {"content", c.content.value_or("")},
                   {"ttl", c.ttl.value_or(1)},
                   {"proxied", c.proxied}};
      req = request("POST", records_url(), body.dump());
      what = "adding " + c.content.value_or("");
    } else if (c.kind == CloudflareChange::Kind::kPatch) {
      json body = json::object();
      if (c.content) body["content"] = *c.content;
      if (c.ttl) body["ttl"] = *c.ttl;
      req = request("PATCH", records_url() + "/" + percent_encode(c.id), body.dump());
      what = c.content ? "changing record " + c.id + " to " + *c.content
                       : "changing the TTL of record " + c.id;
    } else {
      req = request("DELETE", records_url() + "/" + percent_encode(c.id));
      what = "removing record " + c.id;
    }
    send(std::move(req), [this, job, what](const HttpExchange& x) {
      Envelope e;
      if (auto f = failure(x, what, e)) {
        if (job->next > 0) {
          f->message +=
              fmt::format(" ({} of {} changes were made)", job->next, job->changes.size());
        }
        return finish(job, std::move(*f));
      }
      ++job->next;
      write_next(job);
    });
  }

  std::string zone_;
  Secret token_;
  std::string base_;
  std::string zone_id_;  // looked up once; cleared when Cloudflare no longer knows it
};

}  // namespace

std::vector<CloudflareRecord> cloudflare_records(const json& result, config::RecordType type,
                                                 std::string_view name) {
  std::vector<CloudflareRecord> held;
  if (!result.is_array()) return held;
  const std::string type_text = config::to_string(type);
  for (const auto& r : result) {
    if (!r.is_object() || string_at(r, "type") != type_text ||
        !dns::same_name(string_at(r, "name"), name) || string_at(r, "id").empty()) {
      continue;
    }
    CloudflareRecord record;
    record.id = string_at(r, "id");
    auto canonical = canonical_addresses({string_at(r, "content")}, type);
    if (!canonical.empty()) record.content = canonical.front();
    record.ttl = integer_at(r, "ttl").value_or(1);
    record.proxied = true_at(r, "proxied");
    held.push_back(std::move(record));
  }
  return held;
}

std::vector<CloudflareChange> plan_cloudflare_changes(const std::vector<CloudflareRecord>& held,
                                                      const std::vector<std::string>& wanted,
                                                      std::optional<int> wanted_ttl) {
  using Kind = CloudflareChange::Kind;
  std::vector<CloudflareChange> patches, creates, deletes;
  // A TTL the config wants and the record lacks; proxied records keep Cloudflare's.
  auto ttl_change = [&](const CloudflareRecord& r) -> std::optional<int64_t> {
    if (!wanted_ttl || r.proxied || r.ttl == *wanted_ttl) return std::nullopt;
    return *wanted_ttl;
  };
  std::vector<bool> kept(held.size(), false);
  std::vector<std::string> missing;
  for (const std::string& address : wanted) {
    size_t i = 0;
    while (i < held.size() && (kept[i] || held[i].content != address)) ++i;
    if (i == held.size()) {
      missing.push_back(address);
      continue;
    }
    kept[i] = true;
    if (auto ttl = ttl_change(held[i])) patches.push_back({Kind::kPatch, held[i].id, {}, ttl});
  }
  size_t m = 0;
  for (size_t i = 0; i < held.size(); ++i) {
    if (kept[i]) continue;
    if (m < missing.size()) {
      patches.push_back({Kind::kPatch, held[i].id, missing[m++], ttl_change(held[i])});
    } else {
      deletes.push_back({Kind::kDelete, held[i].id, {}, {}});
    }
  }
  const bool proxied =
      std::any_of(held.begin(), held.end(), [](const CloudflareRecord& r) { return r.proxied; });
  const int64_t ttl = proxied ? 1 : wanted_ttl ? *wanted_ttl : held.empty() ? 1 : held.front().ttl;
  for (; m < missing.size(); ++m) creates.push_back({Kind::kCreate, "", missing[m], ttl, proxied});
  std::vector<CloudflareChange> out = std::move(patches);
  out.insert(out.end(), creates.begin(), creates.end());
  out.insert(out.end(), deletes.begin(), deletes.end());
  return out;
}

Result<std::unique_ptr<Provider>> make_cloudflare_provider(const config::CloudflareProvider& config,
                                                           const config::ProviderConfig& common,
                                                           ProviderContext context) {
  if (config.zone.empty() || !dns::encode_name(config.zone)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("zone \"{}\" is not a DNS name", config.zone));
  }
  if (config.token.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "the Cloudflare API token is empty");
  }
  return std::unique_ptr<Provider>(new Cloudflare(config, common, context));
}

}  // namespace ddnswatch::providers
