#include "providers/dyndns2.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/crypto.h"
#include "providers/http_api.h"

namespace ddnswatch::providers {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// The protocol's "Company - Model - Version"; services answer badagent to anything else.
constexpr const char* kUserAgent = "ddnswatch - ddnswatch - " DDNSWATCH_VERSION_STRING;
// dnserr and 911 mean trouble on the service's side; ddclient waits 10 minutes, so do we.
constexpr Duration kServerTroubleWait = minutes(10);

/// What a refusing code means, in plain words; nullopt for a code that is not a refusal.
/// `name` is the host name asked for.
std::optional<std::string> refusal(const std::string& code, const std::string& name) {
  if (code == "badauth") return std::string("the service refused the user name or password");
  if (code == "!donator") {
    return std::string("the request uses a feature this account does not include");
  }
  if (code == "notfqdn") return name + " is not a fully qualified host name the service accepts";
  if (code == "nohost") return name + " does not exist in this account";
  if (code == "numhost") return std::string("the service refused the request: too many hosts");
  if (code == "abuse") {
    return "the service blocked " + name +
           " for abuse (too many updates); unblock it in the service's control panel";
  }
  if (code == "badagent") {
    return std::string("the service refused ddnswatch's User-Agent or request");
  }
  if (code == "!yours") return name + " belongs to another account";
  if (code == "!active") return name + " is not active in the account (disabled or expired)";
  return std::nullopt;
}

class Dyndns2 final : public HttpProvider {
 public:
  Dyndns2(const config::Dyndns2Provider& config, const config::ProviderConfig& common,
          ProviderContext context)
      : HttpProvider(context, common.ca_file),
        server_(config.server),
        authorization_("Basic " + base64_encode(config.username + ":" + config.password.reveal())) {
    while (!server_.empty() && server_.back() == '/') server_.pop_back();
  }

  std::string kind() const override { return "dyndns2"; }

  void reconcile(const Desired& desired, Done done) override {
    auto wanted = canonical_addresses(desired.addresses, desired.type);
    if (auto problem = desired_problem(desired, "", wanted)) {
      return report(std::move(done), make_reconciliation(Outcome::kRejected, *problem));
    }
    if (wanted.size() > 1) {
      return report(std::move(done),
                    make_reconciliation(Outcome::kRejected,
                                        fmt::format("{} wants {}: DynDNS2 takes one address per "
                                                    "record type",
                                                    record_text(desired), join_addresses(wanted))));
    }
    std::vector<std::string> held;
    if (desired.held) held = canonical_addresses(*desired.held, desired.type);
    if (desired.held && held == wanted) {
      return report(
          std::move(done),
          make_reconciliation(Outcome::kUnchanged,
                              fmt::format("{} holds {} as last set; not sent again (DynDNS2 "
                                          "cannot read a record, and services block accounts "
                                          "that send updates that change nothing)",
                                          record_text(desired), join_addresses(wanted)),
                              held));
    }
    net::HttpRequest request;
    request.url = fmt::format("{}/nic/update?hostname={}&myip={}", server_,
                              percent_encode(desired.name), percent_encode(wanted.front()));
    request.headers = {{"Authorization", authorization_}, {"User-Agent", kUserAgent}};
    send(std::move(request),
         [this, desired, wanted, held, done = std::move(done)](const HttpExchange& x) {
           done(read_answer(desired, wanted.front(), held, x));
         });
  }

 private:
  Reconciliation read_answer(const Desired& desired, const std::string& wanted,
                             const std::vector<std::string>& held, const HttpExchange& x) const {
    const net::HttpResult& a = x.answer;
    const std::string what = "updating " + record_text(desired);
    auto reply = [&](Outcome o, std::string message) {
      return make_reconciliation(o, fmt::format("{}: {}", what, message), held);
    };
    if (!a.transferred()) return http_failure(a, what, "", clock_.wall_now());
    if (a.status == 401) {
      return reply(Outcome::kRejected,
                   "HTTP 401 (badauth): the service refused the user name or password; not sent "
                   "again until the record's config changes");
    }
    const Dyndns2Status status = parse_dyndns2_status(a.body);
    if (auto why = refusal(status.code, desired.name)) {
      return reply(Outcome::kRejected, fmt::format("{} ({}); not sent again until the record's "
                                                   "config changes",
                                                   *why, status.code));
    }
    if (status.code == "dnserr" || status.code == "911") {
      Reconciliation r =
          reply(Outcome::kFailed,
                fmt::format("the service reports trouble on its side ({}); trying again in {} min",
                            status.code,
                            std::chrono::duration_cast<minutes>(kServerTroubleWait).count()));
      r.retry_after = kServerTroubleWait;
      if (auto h = a.header("retry-after")) {
        if (auto later = net::parse_retry_after(*h, clock_.wall_now())) {
          r.retry_after = std::max(*r.retry_after, *later);
        }
      }
      return r;
    }
    if (a.ok() && (status.code == "good" || status.code == "nochg")) {
      // Some services ignore myip and take the address the request came from: say so rather
      // than remember an address the service does not hold.
      auto echoed = canonical_addresses({status.address}, desired.type);
      if (!status.address.empty() && (echoed.empty() || echoed.front() != wanted)) {
        // Not sent again soon: each try is one more update the service may count as abuse.
        Reconciliation r = reply(
            Outcome::kFailed,
            fmt::format("the service answered \"{} {}\" for {}: it holds another address than "
                        "the one sent; trying again in {} min",
                        status.code, status.address, wanted,
                        std::chrono::duration_cast<minutes>(kServerTroubleWait).count()));
        r.retry_after = kServerTroubleWait;
        return r;
      }
      if (status.code == "good") {
        return make_reconciliation(
            Outcome::kUpdated,
            fmt::format("{} now holds {} (good); it held {}", record_text(desired), wanted,
                        held.empty() ? "an address not known yet" : join_addresses(held)),
            held);
      }
      return make_reconciliation(Outcome::kUnchanged,
                                 fmt::format("{} already holds {} (nochg: nothing was changed)",
                                             record_text(desired), wanted),
                                 {wanted});
    }
    if (a.status == 429 || a.status >= 500) {
      return http_failure(a, what, describe_body(a), clock_.wall_now());
    }
    return reply(Outcome::kFailed,
                 fmt::format("HTTP {}, not a DynDNS2 answer ({})", a.status, describe_body(a)));
  }

  std::string server_;
  std::string authorization_;  // carries the password: only ever sent, never shown
};

}  // namespace

Dyndns2Status parse_dyndns2_status(std::string_view body) {
  auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  // The first line with anything but white space on it.
  size_t start = 0;
  std::string_view line;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view l = body.substr(start, end - start);
    start = end + 1;
    if (std::any_of(l.begin(), l.end(), [&](char c) { return !blank(c); })) {
      line = l;
      break;
    }
  }
  auto next_word = [&](std::string_view& rest) {
    size_t b = 0;
    while (b < rest.size() && blank(rest[b])) ++b;
    size_t e = b;
    while (e < rest.size() && !blank(rest[e])) ++e;
    std::string word(rest.substr(b, e - b));
    rest = rest.substr(e);
    return word;
  };
  Dyndns2Status status;
  status.code = next_word(line);
  std::transform(status.code.begin(), status.code.end(), status.code.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  status.address = next_word(line);
  return status;
}

Result<std::unique_ptr<Provider>> make_dyndns2_provider(const config::Dyndns2Provider& config,
                                                        const config::ProviderConfig& common,
                                                        ProviderContext context) {
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("server \"{}\" is not an http:// or https:// URL", config.server));
  }
  if (config.username.find(':') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the user name contains a colon, which HTTP Basic auth cannot carry");
  }
  return std::unique_ptr<Provider>(new Dyndns2(config, common, context));
}

}  // namespace ddnswatch::providers
