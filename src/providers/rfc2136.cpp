#include "providers/rfc2136.h"

#include <fmt/format.h>

#include <algorithm>
#include <list>
#include <random>
#include <variant>

#include "core/inet.h"
#include "providers/dns_wire.h"
#include "providers/tsig.h"

namespace ddnswatch::providers {
namespace {

using std::chrono::seconds;

uint16_t qtype(config::RecordType type) {
  return type == config::RecordType::kA ? dns::kTypeA : dns::kTypeAaaa;
}

int64_t unix_seconds(WallTime t) {
  return std::max<int64_t>(0, std::chrono::duration_cast<seconds>(t.time_since_epoch()).count());
}

/// Loop thread only. Several reconciliations may run at once; each is an Operation it owns.
class Rfc2136 final : public Provider {
 public:
  Rfc2136(const config::Rfc2136Provider& config, tsig::Key key, ServerAddress server,
          ProviderContext context, ExchangeOptions options)
      : loop_(context.loop),
        clock_(context.clock),
        zone_(config.zone),
        key_(std::move(key)),
        server_(std::move(server)),
        options_(options),
        ids_(std::random_device{}()) {}

  // Operations hold exchanges and timers; destroying them cancels without calling back.
  ~Rfc2136() override = default;

  std::string kind() const override { return "rfc2136"; }

  void reconcile(const Desired& desired, Done done) override {
    operations_.push_back(std::make_unique<Operation>(*this, desired, std::move(done)));
    operations_.back()->start();
  }

 private:
  /// One reconcile(): read, maybe write, report. Lives in operations_ until it reports.
  class Operation {
   public:
    Operation(Rfc2136& provider, Desired desired, Done done)
        : p_(provider), desired_(std::move(desired)), done_(std::move(done)) {}

    void start() {
      type_ = qtype(desired_.type);
      wanted_ = canonical_addresses(desired_.addresses, desired_.type);
      if (auto problem = desired_problem(desired_, p_.zone_, wanted_))
        return fail_later(Outcome::kRejected, *problem);
      auto query = dns::build_query(p_.next_id(), desired_.name, type_);
      if (!query) return fail_later(Outcome::kRejected, query.error().message);
      send(std::move(*query), &Operation::on_read);
    }

   private:
    /// done must not run inside reconcile(): reports from a timer that dies with us.
    void fail_later(Outcome o, std::string message) {
      deferred_ = p_.loop_.make_timer([this, o, m = std::move(message)] {
        finish(make_reconciliation(o, m, before_.addresses));
      });
      deferred_->start(Duration::zero());
    }

    void send(std::string message, void (Operation::*next)(Result<ExchangeReply>)) {
      signed_at_ = unix_seconds(p_.clock_.wall_now());
      tsig::Signed s = tsig::sign(message, p_.key_, static_cast<uint64_t>(signed_at_));
      request_mac_ = std::move(s.mac);
      exchange_ = DnsExchange::start(
          p_.loop_, p_.server_, std::move(s.message), p_.options_,
          [this, next](Result<ExchangeReply> reply) { (this->*next)(std::move(reply)); });
    }

    /// The answer, parsed and checked against our key; or how the reconciliation ended.
    std::variant<dns::Message, Reconciliation> check(const Result<ExchangeReply>& reply,
                                                     const char* what) {
      if (!reply)
        return make_reconciliation(Outcome::kFailed, reply.error().message, before_.addresses);
      auto message = dns::parse_message(reply->message);
      if (!message) {
        return make_reconciliation(Outcome::kFailed,
                                   fmt::format("the server's answer to our {} does not parse: {}",
                                               what, message.error().message),
                                   before_.addresses);
      }
      auto now = static_cast<uint64_t>(unix_seconds(p_.clock_.wall_now()));
      tsig::Verification v = tsig::verify(reply->message, p_.key_, request_mac_, now);
      uint16_t tsig_error = v.record ? v.record->error : 0;
      bool authentic = v.verdict == tsig::Verdict::kValid;
      const std::string& key = p_.key_.name();
      if (tsig_error == dns::kBadTime) return bad_time(v, authentic);
      if (tsig_error == dns::kBadKey) {
        return make_reconciliation(
            Outcome::kRejected,
            fmt::format("the server does not know our TSIG key: BADKEY — check that "
                        "key_name \"{}\" and key_algorithm {} match a key it has",
                        key, tsig::to_string(p_.key_.algorithm())),
            before_.addresses);
      }
      if (tsig_error == dns::kBadSig) {
        return make_reconciliation(
            Outcome::kRejected,
            fmt::format("the server refused our TSIG signature: BADSIG — key_secret "
                        "does not match its secret for key \"{}\"",
                        key),
            before_.addresses);
      }
      if (tsig_error != 0) {
        return make_reconciliation(
            Outcome::kRejected,
            fmt::format("the server refused our TSIG signature: {}", dns::rcode_name(tsig_error)),
            before_.addresses);
      }
      uint16_t rcode = message->header.rcode;
      bool success = rcode == dns::kNoError || rcode == dns::kNxDomain;
      // An error answer without a signature is believable (servers send REFUSED and NOTAUTH
      // unsigned when they do not trust our key), but it never counts as success; a signature
      // that is there but wrong means the answer is not the server's.
      if ((success && !authentic) || v.verdict == tsig::Verdict::kBadMac ||
          v.verdict == tsig::Verdict::kOtherKey || v.verdict == tsig::Verdict::kMalformed ||
          v.verdict == tsig::Verdict::kTimeOff) {
        return make_reconciliation(
            Outcome::kRejected,
            fmt::format("the server's answer is not signed with our key ({}); not "
                        "accepted (a middlebox or forgery, or the server lost our key)",
                        v.detail),
            before_.addresses);
      }
      return std::move(*message);
    }

    Reconciliation bad_time(const tsig::Verification& v, bool authentic) {
      const tsig::Record& r = *v.record;
      auto server_time = static_cast<int64_t>(r.server_time().value_or(r.time_signed));
      int64_t skew = server_time - signed_at_;
      std::string how =
          skew >= 0 ? fmt::format("{} s behind", skew) : fmt::format("{} s ahead of", -skew);
      Reconciliation rec = make_reconciliation(
          Outcome::kRejected,
          fmt::format("TSIG BADTIME: our clock is {} the server's (fudge {} s); fix this "
                      "machine's clock (NTP){}",
                      how, tsig::kFudge,
                      authentic ? "" : " — the answer was not signed, so its time is unverified"),
          before_.addresses);
      rec.clock_skew = std::chrono::duration_cast<Duration>(seconds(skew));
      return rec;
    }

    void on_read(Result<ExchangeReply> reply) {
      auto checked = check(reply, "query");
      if (auto* r = std::get_if<Reconciliation>(&checked)) return finish(std::move(*r));
      const dns::Message& m = std::get<dns::Message>(checked);
      const std::string& zone = p_.zone_;
      switch (m.header.rcode) {
        case dns::kNoError:
        case dns::kNxDomain:
          break;
        case dns::kRefused:
          return finish(make_reconciliation(
              Outcome::kRejected,
              fmt::format("the server refused our query for {}: REFUSED — is zone {} served "
                          "there, and may we query it?",
                          desired_.name, zone)));
        case dns::kNotAuth:
          return finish(make_reconciliation(
              Outcome::kRejected,
              fmt::format(
                  "the server refused our query for {}: NOTAUTH — it does not accept our "
                  "TSIG key or signature (check key_name, key_algorithm and key_secret, and "
                  "that this machine's clock is within {} s of the server's), or it does "
                  "not serve zone {}",
                  desired_.name, tsig::kFudge, zone)));
        case dns::kServFail:
          return finish(make_reconciliation(
              Outcome::kFailed,
              fmt::format("the server failed to answer for {}: SERVFAIL", desired_.name)));
        default:
          return finish(make_reconciliation(
              Outcome::kFailed, fmt::format("unexpected answer to our query for {}: {}",
                                            desired_.name, dns::rcode_name(m.header.rcode))));
      }
      if (!m.header.aa) {
        return finish(make_reconciliation(
            Outcome::kRejected, fmt::format("{} answered for {} without authority: it does not "
                                            "serve zone {} (or the name is delegated elsewhere)",
                                            p_.server_.to_string(), desired_.name, zone)));
      }
      std::vector<std::string> held;
      std::optional<uint32_t> ttl;
      const size_t size = type_ == dns::kTypeA ? 4 : 16;
      for (const dns::Record& rr : m.answers) {
        if (!dns::same_name(rr.name, desired_.name) || rr.rclass != dns::kClassIn) continue;
        if (rr.type == dns::kTypeCname) {
          auto target = dns::read_name(reply->message, rr.rdata_offset);
          return finish(make_reconciliation(
              Outcome::kRejected,
              fmt::format("{} is an alias (CNAME for {}): an {} record cannot be added beside it",
                          desired_.name, target ? *target : "?",
                          config::to_string(desired_.type))));
        }
        if (rr.type != type_) continue;
        if (rr.rdata.size() != size) {
          return finish(make_reconciliation(
              Outcome::kFailed,
              fmt::format("the server's {} record for {} is {} bytes long",
                          config::to_string(desired_.type), desired_.name, rr.rdata.size())));
        }
        held.push_back(address_text(address_family(desired_.type), rr.rdata.data()));
        ttl = ttl ? std::min(*ttl, rr.ttl) : rr.ttl;
      }
      std::sort(held.begin(), held.end());
      held.erase(std::unique(held.begin(), held.end()), held.end());
      before_ = RrsetState{std::move(held), ttl};

      UpdatePlan plan = plan_update(before_, wanted_, desired_.ttl);
      if (!plan.write) {
        return finish(make_reconciliation(Outcome::kUnchanged, unchanged_message(desired_, before_),
                                          before_.addresses));
      }
      ttl_ = plan.ttl;
      std::vector<std::string> rdatas;
      for (const std::string& a : wanted_) {
        unsigned char raw[16];
        inet_pton(address_family(desired_.type), a.c_str(), raw);
        rdatas.emplace_back(reinterpret_cast<const char*>(raw), size);
      }
      auto update = dns::build_update(p_.next_id(), p_.zone_, desired_.name, type_, rdatas, ttl_);
      if (!update) return finish(make_reconciliation(Outcome::kRejected, update.error().message));
      send(std::move(*update), &Operation::on_write);
    }

    void on_write(Result<ExchangeReply> reply) {
      auto checked = check(reply, "update");
      if (auto* r = std::get_if<Reconciliation>(&checked)) return finish(std::move(*r));
      const dns::Message& m = std::get<dns::Message>(checked);
      const std::string& zone = p_.zone_;
      const std::string& key = p_.key_.name();
      Outcome o = Outcome::kRejected;
      std::string message;
      switch (m.header.rcode) {
        case dns::kNoError:
          o = Outcome::kUpdated;
          message = updated_message(desired_, wanted_, ttl_, before_.addresses);
          break;
        case dns::kRefused:
          message = fmt::format(
              "the server refused the update: REFUSED — does the zone's update policy let key "
              "\"{}\" change {}?",
              key, record_text(desired_));
          break;
        case dns::kNotAuth:
          message = fmt::format(
              "the server refused the update: NOTAUTH — is zone {} served there and the key "
              "\"{}\" allowed to update it?",
              zone, key);
          break;
        case dns::kNotZone:
          message = fmt::format("the server refused the update: NOTZONE — {} is not inside zone {}",
                                desired_.name, zone);
          break;
        case dns::kNotImp:
          message = fmt::format(
              "the server refused the update: NOTIMP — it does not take dynamic updates (enable "
              "them for zone {})",
              zone);
          break;
        case dns::kFormErr:
          message = "the server refused the update: FORMERR — it could not read our message";
          break;
        case dns::kServFail:
          o = Outcome::kFailed;
          message = "the server failed to apply the update: SERVFAIL (its log says why)";
          break;
        default:
          o = Outcome::kFailed;
          message =
              fmt::format("unexpected answer to our update: {}", dns::rcode_name(m.header.rcode));
          break;
      }
      finish(make_reconciliation(o, std::move(message), before_.addresses));
    }

    /// Hands the result to the provider, which destroys this operation before calling done.
    void finish(Reconciliation r) { p_.finished(this, std::move(r)); }

    Rfc2136& p_;
    Desired desired_;
    Done done_;
    uint16_t type_ = dns::kTypeA;
    std::vector<std::string> wanted_;
    RrsetState before_;
    uint32_t ttl_ = kDefaultTtl;
    int64_t signed_at_ = 0;
    std::string request_mac_;
    std::unique_ptr<DnsExchange> exchange_;
    std::unique_ptr<Timer> deferred_;

    friend class Rfc2136;
  };

  uint16_t next_id() { return static_cast<uint16_t>(ids_() & 0xffff); }

  void finished(Operation* op, Reconciliation r) {
    auto it = std::find_if(operations_.begin(), operations_.end(),
                           [op](const auto& o) { return o.get() == op; });
    if (it == operations_.end()) return;
    Done done = std::move((*it)->done_);
    operations_.erase(it);  // destroys the exchange and timers: nothing calls back after this
    // Last: done may destroy this provider.
    if (done) done(std::move(r));
  }

  EventLoop& loop_;
  const Clock& clock_;
  std::string zone_;
  tsig::Key key_;
  ServerAddress server_;
  ExchangeOptions options_;
  std::mt19937 ids_;
  std::list<std::unique_ptr<Operation>> operations_;
};

}  // namespace

Result<std::unique_ptr<Provider>> make_rfc2136_provider(const config::Rfc2136Provider& config,
                                                        ProviderContext context,
                                                        ExchangeOptions options) {
  auto server = parse_server_address(config.server);
  if (!server) return tl::unexpected(server.error());
  auto key = tsig::Key::create(config.key_name, config.key_algorithm, config.key_secret.reveal());
  if (!key) return tl::unexpected(key.error());
  if (!dns::encode_name(config.zone) || config.zone.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("zone \"{}\" is not a DNS name", config.zone));
  }
  return std::unique_ptr<Provider>(
      new Rfc2136(config, std::move(*key), std::move(*server), context, options));
}

}  // namespace ddnswatch::providers
