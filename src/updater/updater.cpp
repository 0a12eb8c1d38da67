#include "updater/updater.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <variant>

#include "core/crypto.h"

namespace ddnswatch::updater {

using nlohmann::json;

namespace {

// Changes with anything that could turn a refusal into a success (zone, server, credentials),
// so that a fixed config clears the latch, also across restarts. A truncated SHA-256: the
// state file never holds a secret, nor anything that would help guess one.
std::string fingerprint(const config::RecordConfig& r) {
  std::string text = r.name + "|" + config::to_string(r.type) + "|" +
                     (r.ttl ? std::to_string(*r.ttl) : "-") + "|" + r.provider.kind() + "|" +
                     r.provider.endpoint.value_or("") + "|" +
                     (r.provider.ca_file ? r.provider.ca_file->string() : "");
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, config::CloudflareProvider>) {
          text += p.zone + "|" + p.token.reveal();
        } else if constexpr (std::is_same_v<T, config::AlidnsProvider>) {
          text += p.zone + "|" + p.access_key_id + "|" + p.access_key_secret.reveal();
        } else if constexpr (std::is_same_v<T, config::DnspodProvider>) {
          text += p.zone + "|" + p.secret_id + "|" + p.secret_key.reveal();
        } else if constexpr (std::is_same_v<T, config::Dyndns2Provider>) {
          text += p.server + "|" + p.username + "|" + p.password.reveal();
        } else if constexpr (std::is_same_v<T, config::Rfc2136Provider>) {
          text += p.zone + "|" + p.server + "|" + p.key_name + "|" + p.key_algorithm + "|" +
                  p.key_secret.reveal();
        } else if constexpr (std::is_same_v<T, config::PowerdnsProvider>) {
          text += p.zone + "|" + p.url + "|" + p.server_id + "|" + p.api_key.reveal();
        }
      },
      r.provider.settings);
  return hex_encode(sha256(text)).substr(0, 16);
}

int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

json time_json(const std::optional<WallTime>& t) { return t ? json(to_ms(*t)) : json(nullptr); }
/// A time saved by time_json(); nullopt when there is none, or it is outside half of what
/// WallTime holds (1824 to 2116): a state file edited by hand must not overflow the clock,
/// here or when intervals are added to the time later.
std::optional<WallTime> time_from(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  using std::chrono::milliseconds;
  constexpr int64_t kMax =
      std::chrono::duration_cast<milliseconds>(WallTime::duration::max()).count() / 2;
  const int64_t ms = it->get<int64_t>();
  if (ms < -kMax || ms > kMax) return std::nullopt;
  return WallTime(milliseconds(ms));
}

json utc_json(const std::optional<WallTime>& t) { return t ? json(format_utc(*t)) : json(nullptr); }

std::optional<Addresses> addresses_from(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_array()) return std::nullopt;
  Addresses a;
  for (const auto& e : j[key]) {
    if (e.is_string()) a.push_back(e.get<std::string>());
  }
  return a;
}

/// What the state file keeps of one record.
struct Saved {
  std::string fingerprint;
  std::optional<Addresses> desired;
  RecordStatus status;
};

json to_json(const std::string& fp, const std::optional<Addresses>& desired,
             const RecordStatus& s) {
  return {{"fingerprint", fp},
          {"desired", desired ? json(*desired) : json(nullptr)},
          {"held", s.held ? json(*s.held) : json(nullptr)},
          {"last_attempt", time_json(s.last_attempt)},
          {"last_success", time_json(s.last_success)},
          {"last_write", time_json(s.last_write)},
          {"failures", s.failures},
          {"not_before", time_json(s.not_before)},
          {"latched", s.latched ? json(*s.latched) : json(nullptr)},
          {"proxied", s.proxied}};
}

Saved saved_from(const json& j) {
  Saved s;
  // Members of another type count as absent: the file may have been edited by hand.
  if (j.contains("fingerprint") && j["fingerprint"].is_string()) s.fingerprint = j["fingerprint"];
  s.desired = addresses_from(j, "desired");
  s.status.held = addresses_from(j, "held");
  s.status.last_attempt = time_from(j, "last_attempt");
  s.status.last_success = time_from(j, "last_success");
  s.status.last_write = time_from(j, "last_write");
  // Bounded, so that counting one more failure cannot overflow; the backoff is the same.
  if (j.contains("failures") && j["failures"].is_number_integer()) {
    s.status.failures =
        static_cast<int>(std::clamp<int64_t>(j["failures"].get<int64_t>(), 0, 1000));
  }
  s.status.not_before = time_from(j, "not_before");
  if (j.contains("latched") && j["latched"].is_string()) s.status.latched = j["latched"];
  s.status.proxied = j.contains("proxied") && j["proxied"].is_boolean() && j["proxied"].get<bool>();
  return s;
}

}  // namespace

struct Updater::Impl {
  struct Entry {
    config::RecordConfig cfg;
    std::string id;
    std::string fingerprint;
    std::unique_ptr<providers::Provider> provider;
    std::optional<Addresses> desired;
    RecordStatus status;
    std::unique_ptr<Timer> timer;
    bool in_flight = false;
    SteadyTime started{};
    std::string last_outcome;  // as in the metrics
    std::string last_message;
    Decision decision;
    std::vector<std::function<void()>> waiters;  // reconcile_all
  };

  EventLoop& loop;
  const Clock& clock;
  ProviderFactory factory;
  UpdaterObserver* observer;
  PersistFn persist;
  EventFn on_event;
  HeldFn on_held;
  Policy policy;
  std::mt19937 random{std::random_device{}()};
  std::map<std::string, std::unique_ptr<Entry>> entries;  // by record id
  std::map<std::string, Saved> restored;                  // until configure() claims them
  std::map<config::RecordType, std::string> addresses;    // the trusted address per family

  mutable std::mutex snapshot_mutex;
  std::string snapshot = "[]";

  Impl(EventLoop& l, const Clock& c, ProviderFactory f, UpdaterObserver* o, PersistFn p, EventFn e,
       HeldFn h)
      : loop(l),
        clock(c),
        factory(std::move(f)),
        observer(o),
        persist(std::move(p)),
        on_event(std::move(e)),
        on_held(std::move(h)) {}

  RecordInfo info(const Entry& e) const { return {e.id, e.cfg.provider.kind()}; }

  bool in_sync(const Entry& e) const {
    return e.desired && e.status.held && *e.desired == *e.status.held;
  }

  /// Tells the monitor what the record holds: its expected answer for the name, unless the
  /// provider proxies the name (then the monitor keeps following the authoritative answers,
  /// which are the proxy's addresses, and never calls them foreign).
  void held(const Entry& e) {
    if (e.status.held && !e.status.proxied && on_held) {
      on_held(e.cfg.name, e.cfg.type, *e.status.held);
    }
  }

  void save() {
    json doc = json::object();
    for (const auto& [id, e] : entries) doc[id] = to_json(e->fingerprint, e->desired, e->status);
    // Records not configured right now (a reload that dropped them) are forgotten.
    if (persist) persist(json{{"records", doc}});
    publish();
  }

  void publish() {
    json list = json::array();
    const WallTime now = clock.wall_now();
    for (const auto& [id, e] : entries) {
      json j = {{"record", id},
                {"name", e->cfg.name},
                {"type", config::to_string(e->cfg.type)},
                {"provider", e->cfg.provider.kind()},
                {"desired", e->desired ? json(*e->desired) : json(nullptr)},
                {"held", e->status.held ? json(*e->status.held) : json(nullptr)},
                {"in_sync", in_sync(*e)},
                {"proxied", e->status.proxied},
                {"state", e->in_flight             ? "updating"
                          : e->status.latched      ? "refused"
                          : e->status.failures > 0 ? "failing"
                          : !e->desired            ? "waiting"
                          : in_sync(*e)            ? "in_sync"
                                                   : "pending"},
                {"last_outcome", e->last_outcome.empty() ? json(nullptr) : json(e->last_outcome)},
                {"message", e->last_message},
                {"last_attempt", utc_json(e->status.last_attempt)},
                {"last_success", utc_json(e->status.last_success)},
                {"last_update", utc_json(e->status.last_write)},
                {"failures", e->status.failures},
                {"next_attempt", e->decision.next && !e->in_flight
                                     ? json(format_utc(std::max(*e->decision.next, now)))
                                     : json(nullptr)},
                {"reason", e->decision.reason}};
      list.push_back(std::move(j));
    }
    std::lock_guard lock(snapshot_mutex);
    snapshot = list.dump();
  }

  void schedule(Entry& e) {
    if (e.in_flight) return;
    const WallTime now = clock.wall_now();
    e.decision = decide(e.status, e.desired, now, policy);
    if (e.decision.reconcile) {
      start(e);
      return;
    }
    if (e.decision.next) {
      auto wait = std::chrono::duration_cast<Duration>(*e.decision.next - now);
      e.timer->start(std::max(wait, Duration::zero()));
    } else {
      e.timer->stop();
    }
    publish();
  }

  void start(Entry& e) {
    if (!e.provider || !e.desired) return;
    e.in_flight = true;
    e.started = clock.steady_now();
    e.timer->stop();
    const Addresses desired = *e.desired;
    providers::Desired d{e.cfg.name, e.cfg.type, desired, e.cfg.ttl, e.status.held};
    spdlog::debug("{}: reconciling with {} ({})", e.id, e.cfg.provider.kind(), e.decision.reason);
    // The pending addresses are on disk already: every change of `desired` is saved at once.
    publish();
    const std::string id = e.id;
    e.provider->reconcile(d, [this, id, desired](providers::Reconciliation r) {
      auto it = entries.find(id);
      if (it == entries.end()) return;
      finish(*it->second, desired, r);
    });
  }

  void finish(Entry& e, const Addresses& desired, const providers::Reconciliation& r) {
    using providers::Outcome;
    e.in_flight = false;
    const WallTime now = clock.wall_now();
    const auto took = std::chrono::duration_cast<Duration>(clock.steady_now() - e.started);
    const bool was_failing = e.status.failures > 0 || e.status.latched.has_value();
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    e.status = apply(e.status, desired, r, now, policy, jitter(random));
    e.last_outcome = providers::to_string(r.outcome);
    e.last_message = r.message;
    const std::string qtype = config::to_string(e.cfg.type);
    const std::string addrs = fmt::format("{}", fmt::join(desired, ", "));
    if (observer) observer->record_reconciled(info(e), providers::to_string(r.outcome), took, now);
    switch (r.outcome) {
      case Outcome::kUpdated:
        spdlog::info(
            "{}: updated at {} to {}{}", e.id, e.cfg.provider.kind(), addrs,
            r.before.empty() ? " (created)" : fmt::format(" (was {})", fmt::join(r.before, ", ")));
        if (on_event) on_event({"record_updated", e.cfg.name, qtype, addrs});
        break;
      case Outcome::kUnchanged:
        spdlog::info("{}: {} already holds {}", e.id, e.cfg.provider.kind(), addrs);
        // A failure that cleared without a write is still good news for whoever was told.
        if (was_failing && on_event) on_event({"record_updated", e.cfg.name, qtype, addrs});
        break;
      default: {
        const std::string next =
            e.status.latched ? "not retrying until the config changes"
            : e.status.not_before
                ? fmt::format("retrying in {} s", std::chrono::duration_cast<std::chrono::seconds>(
                                                      *e.status.not_before - now)
                                                      .count())
                : "";
        spdlog::error("{}: update at {} {}: {}; {}", e.id, e.cfg.provider.kind(),
                      providers::to_string(r.outcome), r.message, next);
        if (!was_failing && on_event) on_event({"record_failed", e.cfg.name, qtype, r.message});
        break;
      }
    }
    if (observer) observer->record_in_sync(e.id, in_sync(e));
    if (r.outcome == Outcome::kUpdated || r.outcome == Outcome::kUnchanged) held(e);
    auto waiters = std::move(e.waiters);
    e.waiters.clear();
    save();
    schedule(e);
    for (auto& w : waiters) w();
  }

  void configure(const config::Config& c) {
    policy.min_interval = c.update.min_interval;
    policy.cooldown = c.update.cooldown;
    policy.max_interval = c.update.max_interval;
    policy.error_interval = c.update.error_interval;
    policy.max_backoff = c.update.max_backoff;
    std::map<std::string, std::unique_ptr<Entry>> next;
    std::vector<RecordInfo> infos;
    for (const auto& r : c.records) {
      const std::string id = r.id();
      const std::string fp = fingerprint(r);
      auto old = entries.find(id);
      std::unique_ptr<Entry> e;
      if (old != entries.end() && old->second->fingerprint == fp) {
        e = std::move(old->second);
        e->cfg = r;  // same fingerprint: nothing that matters changed
      } else {
        e = std::make_unique<Entry>();
        e->cfg = r;
        e->id = id;
        e->fingerprint = fp;
        auto saved = restored.find(id);
        if (saved != restored.end()) {
          e->desired = saved->second.desired;
          e->status = saved->second.status;
          // Another config than the one that was refused: try again.
          if (saved->second.fingerprint != fp) {
            e->status.latched.reset();
            e->status.failures = 0;
            e->status.not_before.reset();
            e->status.held.reset();
          }
          restored.erase(saved);
        }
        if (auto p = factory(r.provider)) {
          e->provider = std::move(*p);
        } else {
          e->status.latched = "cannot set up the provider: " + p.error().message;
          spdlog::error("{}: {}", id, *e->status.latched);
        }
        Entry* raw = e.get();
        e->timer = loop.make_timer([this, raw] { schedule(*raw); });
      }
      if (auto want = wanted(r)) e->desired = std::move(want);
      infos.push_back(info(*e));
      next[id] = std::move(e);
    }
    entries = std::move(next);  // dropped records: their providers cancel what is in flight
    if (observer) {
      observer->records_configured(infos);
      for (const auto& [id, e] : entries) observer->record_in_sync(id, in_sync(*e));
    }
    save();
    for (auto& [id, e] : entries) {
      held(*e);
      schedule(*e);
    }
  }

  /// What a record should hold now: its fixed addresses and, unless its config leaves it out,
  /// the trusted address of its family. nullopt while that address is not known: a partial set
  /// would remove the detected address from the provider.
  std::optional<Addresses> wanted(const config::RecordConfig& r) const {
    Addresses want = r.fixed_addresses;
    if (r.use_detected) {
      auto a = addresses.find(r.type);
      if (a == addresses.end()) return std::nullopt;
      want.push_back(a->second);
    }
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    if (want.empty()) return std::nullopt;
    return want;
  }

  void set_address(config::RecordType type, const std::string& address) {
    addresses[type] = address;
    std::vector<Entry*> changed;
    for (auto& [id, e] : entries) {
      if (e->cfg.type != type || !e->cfg.use_detected) continue;
      auto want = wanted(e->cfg);
      if (!want || (e->desired && *e->desired == *want)) continue;
      e->desired = std::move(want);
      if (observer) observer->record_in_sync(id, in_sync(*e));
      changed.push_back(e.get());
    }
    if (changed.empty()) return;
    save();  // one write for all the records the new address concerns, before any is sent
    for (Entry* e : changed) schedule(*e);
  }

  void retry_refused() {
    std::vector<Entry*> refused;
    for (auto& [id, e] : entries) {
      // A provider that could not be set up stays refused: only a new config can fix that.
      if (!e->status.latched || !e->provider) continue;
      spdlog::info("{}: trying again after the refusal \"{}\"", id, *e->status.latched);
      e->status.latched.reset();
      e->status.failures = 0;
      e->status.not_before.reset();
      refused.push_back(e.get());
    }
    if (refused.empty()) return;
    save();
    for (Entry* e : refused) schedule(*e);
  }

  void reconcile_all(std::function<void()> done) {
    auto remaining = std::make_shared<int>(0);
    auto finish_one = [remaining, done]() {
      if (--*remaining == 0 && done) done();
    };
    for (auto& [id, e] : entries) {
      if (!e->provider || !e->desired) continue;
      ++*remaining;
      e->waiters.push_back(finish_one);
      if (!e->in_flight) start(*e);
    }
    if (*remaining == 0)
      loop.post([done] {
        if (done) done();
      });
  }
};

Updater::Updater(EventLoop& loop, const Clock& clock, ProviderFactory factory,
                 UpdaterObserver* observer, PersistFn persist, EventFn on_event, HeldFn on_held)
    : impl_(std::make_unique<Impl>(loop, clock, std::move(factory), observer, std::move(persist),
                                   std::move(on_event), std::move(on_held))) {}

Updater::~Updater() = default;

void Updater::restore(const nlohmann::json& saved) {
  if (!saved.is_object() || !saved.contains("records") || !saved["records"].is_object()) return;
  for (const auto& [id, j] : saved["records"].items()) {
    if (j.is_object()) impl_->restored[id] = saved_from(j);
  }
}

void Updater::configure(const config::Config& config) { impl_->configure(config); }

void Updater::set_address(config::RecordType type, const std::string& address) {
  impl_->set_address(type, address);
}

void Updater::retry_refused() { impl_->retry_refused(); }

void Updater::reconcile_all(std::function<void()> done) { impl_->reconcile_all(std::move(done)); }

std::string Updater::status_json() const {
  std::lock_guard lock(impl_->snapshot_mutex);
  return impl_->snapshot;
}

}  // namespace ddnswatch::updater
