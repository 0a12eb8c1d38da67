#include "monitor/monitor.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "monitor/sweep.h"

namespace ddnswatch::monitor {

using resolvers::Outcome;
using resolvers::QType;

namespace {

constexpr size_t kHistoryLimit = 16;

struct Restored {
  AddressSet current;
  std::vector<AddressSet> history;
  WallTime changed_at{};
};

QType qtype_of(config::RecordType type) {
  return type == config::RecordType::kA ? QType::kA : QType::kAAAA;
}

AddressSet to_set(const std::vector<std::string>& list) {
  return AddressSet(list.begin(), list.end());
}

nlohmann::json set_json(const AddressSet& s) {
  return nlohmann::json(std::vector<std::string>(s.begin(), s.end()));
}

nlohmann::json history_json(const std::vector<AddressSet>& history) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : history) out.push_back(set_json(h));
  return out;
}

/// One name's entry in the state file.
nlohmann::json saved_json(const AddressSet& current, WallTime changed_at,
                          const std::vector<AddressSet>& history) {
  return {{"expected", set_json(current)},
          {"changed_at", to_unix_seconds(changed_at)},
          {"history", history_json(history)}};
}

/// A time saved as Unix seconds; nullopt when it is outside half of what WallTime holds
/// (1824 to 2116): the state file may have been edited by hand, and converting a value out of
/// range, or adding intervals to one close to it, is undefined.
std::optional<WallTime> from_unix(double seconds) {
  constexpr double kLimit = 4.5e9;                                    // seconds
  if (!(seconds > -kLimit && seconds < kLimit)) return std::nullopt;  // NaN too
  return WallTime(
      std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(seconds)));
}

}  // namespace

bool serial_newer(uint32_t a, uint32_t b) {
  // RFC 1982 serial number arithmetic: a is newer than b within half the number space.
  return a != b && static_cast<uint32_t>(a - b) < 0x80000000u;
}

std::optional<AddressSet> expected_from_authoritative(const SweepResult& sweep) {
  // Only authoritative answers (AA) count; a server whose serial could not be read is used
  // only when no server's serial is known, so a timed-out primary never lets a lagging
  // secondary's old answer win.
  const bool any_serial = std::any_of(sweep.authoritative.begin(), sweep.authoritative.end(),
                                      [](const AuthoritativeAnswer& a) { return a.serial; });
  const AuthoritativeAnswer* best = nullptr;
  for (const auto& a : sweep.authoritative) {
    const Outcome o = a.answer.outcome;
    if (o != Outcome::kNoError && o != Outcome::kNoData && o != Outcome::kNxDomain) continue;
    if (!a.answer.authoritative) continue;
    // A CNAME out of the zone: the addresses are not the zone's to say.
    if (!a.answer.cname_chain.empty() && a.answer.records.empty()) continue;
    if (any_serial && !a.serial) continue;
    if (best == nullptr || (a.serial && best->serial && serial_newer(*a.serial, *best->serial))) {
      best = &a;
    }
  }
  if (best == nullptr) return std::nullopt;
  return to_set(addresses_of(best->answer));
}

std::vector<Row> judge(const SweepResult& sweep, const Expectation& expectation,
                       bool include_authoritative) {
  std::vector<Row> rows;
  auto add = [&](const std::string& resolver, const resolvers::Answer& a) {
    Row row;
    row.resolver = resolver;
    row.observation.outcome = a.outcome;
    row.observation.addresses = to_set(addresses_of(a));
    // A negative answer is cached for the SOA's minimum (RFC 2308), capped by the SOA's TTL.
    row.observation.ttl =
        a.records.empty() && a.soa ? std::min(a.soa->ttl, a.soa->minimum) : min_ttl(a);
    row.observation.at = sweep.started + a.latency;
    row.verdict = classify(row.observation, expectation);
    row.latency = a.latency;
    rows.push_back(std::move(row));
  };
  for (const auto& [resolver, answer] : sweep.answers) add(resolver.spec.id, answer);
  if (include_authoritative) {
    for (const auto& a : sweep.authoritative) add(a.resolver, a.answer);
  }
  return rows;
}

struct Monitor::Impl {
  struct Track {
    config::WatchConfig cfg;
    SweepRequest request;
    bool show_authoritative = false;  // "authoritative" named in the watch's resolvers
    Expectation expectation;
    NameState state;
    bool has_state = false;
    std::map<std::string, std::optional<WallTime>> first_match;
    bool learned_without_change = false;  // matches at first sight say nothing of lag
    std::unique_ptr<Timer> timer;
    bool sweeping = false;
    bool warned_unknown = false;
    /// Why each failing resolver failed last ("malformed: record data truncated"): a failure
    /// is logged when it begins or changes, and its end once, not on every check.
    std::map<std::string, std::string> failing;
    int checks = 0;
    uint64_t generation = 0;
  };

  EventLoop& loop;
  resolvers::DnsEngine& engine;
  const Clock& clock;
  MonitorObserver* observer;
  PersistFn persist;
  EventFn on_event;
  std::unique_ptr<resolvers::ResolverDirectory> directory;
  std::unique_ptr<Sweeper> sweeper;
  std::map<std::string, resolvers::ResolverSpec> engine_specs;  // configured resolvers
  std::optional<resolvers::ResolverSpec> bootstrap;             // the one in the engine
  std::map<std::string, Track> tracks;                          // by "name/qtype"
  std::map<std::string, Restored> restored;
  /// What the updater's providers hold, by "name/TYPE": the expectation of "expect": "record".
  std::map<std::string, AddressSet> record_held;
  uint64_t next_generation = 1;
  std::deque<nlohmann::json> recent_events;  // newest last, at most kRecentEvents
  std::atomic<bool> is_ready{false};
  mutable std::mutex status_mutex;
  std::string status;  // the last published /status document

  static constexpr size_t kRecentEvents = 50;
  /// /status covers every (name, resolver) pair, so rebuilding it after each of a sweep's
  /// names costs names x pairs. It is rebuilt after each check while that is cheap (the last
  /// rebuild took less than kCheapPublish); a larger one is rebuilt at most every
  /// kPublishInterval, once for all the checks that ended in the meantime.
  static constexpr Duration kPublishInterval = std::chrono::milliseconds(100);
  static constexpr std::chrono::microseconds kCheapPublish{2000};
  std::unique_ptr<Timer> publish_timer;
  SteadyTime last_publish{};
  std::chrono::steady_clock::duration publish_cost{};

  Impl(EventLoop& l, resolvers::DnsEngine& e, const Clock& c, MonitorObserver* o, PersistFn p,
       EventFn ev)
      : loop(l), engine(e), clock(c), observer(o), persist(std::move(p)), on_event(std::move(ev)) {}

  void start_sweep(const std::string& key);
  void on_result(const std::string& key, uint64_t generation, SweepResult result);
  void set_expected(const std::string& key, Track& t, const AddressSet& expected, WallTime now);
  void emit(const Track& t, const Event& e);
  void log_failures(Track& t, const SweepResult& result);
  void save();
  void publish();
  void publish_soon();
};

void Monitor::Impl::publish_soon() {
  if (publish_timer && publish_timer->active()) return;  // a rebuild is due already
  const auto since = clock.steady_now() - last_publish;
  if (publish_cost < kCheapPublish || since >= kPublishInterval) {
    publish();
    return;
  }
  if (!publish_timer) publish_timer = loop.make_timer([this] { publish(); });
  publish_timer->start(kPublishInterval - std::chrono::duration_cast<Duration>(since));
}

void Monitor::Impl::emit(const Track& t, const Event& e) {
  const char* qtype = config::to_string(t.cfg.type);
  // Bad news is a warning, the rest information.
  const bool bad = e.kind == EventKind::kResolverForeign || e.kind == EventKind::kSplitBrainBegan ||
                   e.kind == EventKind::kResolverError;
  const char* what = e.kind == EventKind::kResolverError ? "outcome" : "answer";
  spdlog::log(bad ? spdlog::level::warn : spdlog::level::info, "{} {}: {}{}{}", t.cfg.name, qtype,
              to_string(e.kind), e.resolver.empty() ? "" : " at " + e.resolver,
              e.detail.empty() ? "" : fmt::format(" ({} {})", what, e.detail));
  if (on_event) on_event({t.cfg.name, qtype, e});
  recent_events.push_back({{"time", format_utc(clock.wall_now())},
                           {"name", t.cfg.name},
                           {"qtype", qtype},
                           {"event", to_string(e.kind)},
                           {"resolver", e.resolver},
                           {"detail", e.detail}});
  if (recent_events.size() > kRecentEvents) recent_events.pop_front();
}

void Monitor::Impl::log_failures(Track& t, const SweepResult& result) {
  const char* qtype = config::to_string(t.cfg.type);
  auto check = [&](const std::string& resolver, const std::string& endpoint,
                   const resolvers::Answer& a) {
    const bool failed = a.outcome != resolvers::Outcome::kNoError &&
                        a.outcome != resolvers::Outcome::kNoData &&
                        a.outcome != resolvers::Outcome::kNxDomain;
    auto it = t.failing.find(resolver);
    if (!failed) {
      if (it == t.failing.end()) return;
      spdlog::info("{} {}: resolver {} ({}) answers again", t.cfg.name, qtype, resolver, endpoint);
      t.failing.erase(it);
      return;
    }
    std::string why = resolvers::to_string(a.outcome);
    if (!a.detail.empty()) why += ": " + a.detail;
    if (it != t.failing.end() && it->second == why) return;
    spdlog::warn("{} {}: resolver {} ({}) failed: {}", t.cfg.name, qtype, resolver, endpoint, why);
    t.failing[resolver] = std::move(why);
  };
  for (const auto& [resolver, answer] : result.answers) {
    check(resolver.spec.id, resolver.spec.endpoint(), answer);
  }
  if (t.show_authoritative) {
    for (const auto& a : result.authoritative) check(a.resolver, a.address, a.answer);
  }
}

void Monitor::Impl::publish() {
  using nlohmann::json;
  const SteadyTime started = clock.steady_now();
  json names = json::array();
  bool all_checked = true;
  for (const auto& [key, t] : tracks) {
    if (t.checks == 0) all_checked = false;
    json entry = {
        {"name", t.cfg.name},
        {"qtype", config::to_string(t.cfg.type)},
        {"expect", t.cfg.expect == config::WatchConfig::Expect::kFixed    ? "fixed"
                   : t.cfg.expect == config::WatchConfig::Expect::kRecord ? "record"
                                                                          : "authoritative"},
        {"checks", t.checks},
        {"expected", nullptr},
        {"resolvers", json::array()}};
    if (t.expectation.known) {
      entry["expected"] = set_json(t.expectation.current);
      entry["expected_changed_at"] = format_utc(t.expectation.changed_at);
      entry["history"] = history_json(t.expectation.history);
    }
    if (t.has_state) {
      const NameSummary& s = t.state.summary;
      entry["summary"] = {{"answer_groups", s.answer_groups},
                          {"split_brain", s.split_brain},
                          {"propagation_ratio", s.propagation_ratio},
                          {"eta_seconds", std::chrono::duration<double>(s.eta).count()},
                          {"converged", s.converged},
                          {"propagated", s.propagated},
                          {"change_pending", t.state.change_pending}};
      for (const Row& r : t.state.rows) {
        json row = {{"resolver", r.resolver},
                    {"verdict", to_string(r.verdict)},
                    {"outcome", resolvers::to_string(r.observation.outcome)},
                    {"answer", set_json(r.observation.addresses)},
                    {"ttl", r.observation.ttl},
                    {"latency_ms", std::chrono::duration<double, std::milli>(r.latency).count()},
                    {"lag_seconds", nullptr}};
        if (r.lag) row["lag_seconds"] = std::chrono::duration<double>(*r.lag).count();
        entry["resolvers"].push_back(std::move(row));
      }
    }
    names.push_back(std::move(entry));
  }
  json doc = {{"names", names},
              {"events", json(std::vector<json>(recent_events.begin(), recent_events.end()))},
              {"records", json::array()}};
  std::string text = doc.dump(2);
  {
    std::lock_guard<std::mutex> lock(status_mutex);
    status = std::move(text);
  }
  if (all_checked) is_ready = true;
  last_publish = clock.steady_now();
  publish_cost = last_publish - started;
}

void Monitor::Impl::save() {
  if (!persist) return;
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [key, t] : tracks) {
    if (!t.expectation.known) continue;
    doc[key] = saved_json(t.expectation.current, t.expectation.changed_at, t.expectation.history);
  }
  // Names not watched at the moment keep their history (a reload may bring them back).
  for (const auto& [key, r] : restored) {
    if (doc.contains(key)) continue;
    doc[key] = saved_json(r.current, r.changed_at, r.history);
  }
  persist(doc);
}

void Monitor::Impl::set_expected(const std::string& key, Track& t, const AddressSet& expected,
                                 WallTime now) {
  Expectation& e = t.expectation;
  if (!e.known) {
    e.known = true;
    auto r = restored.find(key);
    if (r != restored.end() && r->second.current == expected) {
      e.current = expected;
      e.history = r->second.history;
      e.changed_at = r->second.changed_at;
      t.learned_without_change = true;
    } else if (r != restored.end()) {
      // It changed while the daemon was not running: a change like any other, from now.
      e.history = r->second.history;
      e.history.insert(e.history.begin(), r->second.current);
      e.current = expected;
      e.changed_at = now;
      t.state.change_pending = true;
      emit(t, {EventKind::kExpectedChanged, "", to_string(expected)});
    } else {
      e.current = expected;
      e.changed_at = now;
      t.learned_without_change = true;
    }
    std::erase(e.history, e.current);
    if (e.history.size() > kHistoryLimit) e.history.resize(kHistoryLimit);
    restored.erase(key);
    save();
    return;
  }
  if (expected == e.current) return;
  e.history.insert(e.history.begin(), e.current);
  std::erase(e.history, expected);
  if (e.history.size() > kHistoryLimit) e.history.resize(kHistoryLimit);
  e.current = expected;
  e.changed_at = now;
  t.first_match.clear();
  t.learned_without_change = false;
  t.state.change_pending = true;
  emit(t, {EventKind::kExpectedChanged, "", to_string(expected)});
  save();
}

void Monitor::Impl::start_sweep(const std::string& key) {
  auto it = tracks.find(key);
  if (it == tracks.end() || it->second.sweeping || !sweeper) return;
  Track& t = it->second;
  t.sweeping = true;
  const uint64_t generation = t.generation;
  sweeper->sweep(t.request, [this, key, generation](SweepResult result) {
    on_result(key, generation, std::move(result));
  });
}

void Monitor::Impl::on_result(const std::string& key, uint64_t generation, SweepResult result) {
  auto it = tracks.find(key);
  if (it == tracks.end() || it->second.generation != generation) return;
  Track& t = it->second;
  t.sweeping = false;
  ++t.checks;
  // /readyz follows the checks at once, even while /status waits for its rebuild.
  if (!is_ready && std::all_of(tracks.begin(), tracks.end(),
                               [](const auto& entry) { return entry.second.checks > 0; })) {
    is_ready = true;
  }
  const WallTime now = clock.wall_now();

  // "record" follows the updater once it knows what the provider holds; until then (and for
  // a name no record manages) the authoritative servers tell.
  const bool by_record =
      t.cfg.expect == config::WatchConfig::Expect::kRecord && record_held.count(key) != 0;
  if (t.cfg.expect != config::WatchConfig::Expect::kFixed && !by_record) {
    if (auto e = expected_from_authoritative(result)) {
      set_expected(key, t, *e, now);
      t.warned_unknown = false;
    } else if (!t.warned_unknown) {
      const auto cname =
          std::find_if(result.authoritative.begin(), result.authoritative.end(),
                       [](const AuthoritativeAnswer& a) { return !a.answer.cname_chain.empty(); });
      if (cname != result.authoritative.end()) {
        spdlog::warn(
            "{} {}: expected answer unknown: the zone's servers say it is a CNAME to {}; "
            "watch that name, or give the expected addresses in the config",
            t.cfg.name, config::to_string(t.cfg.type), cname->answer.cname_chain.back());
      } else {
        spdlog::warn(
            "{} {}: expected answer unknown: no authoritative server answered{}", t.cfg.name,
            config::to_string(t.cfg.type),
            result.authoritative_error.empty() ? "" : " (" + result.authoritative_error + ")");
      }
      t.warned_unknown = true;
    }
  }
  log_failures(t, result);
  if (observer != nullptr) observer->cycle_done(result.duration, now);
  if (!t.expectation.known) {
    publish_soon();
    t.timer->start(std::min(t.cfg.interval, t.cfg.fast_interval));
    return;
  }

  NameState next;
  next.rows = judge(result, t.expectation, t.show_authoritative);
  next.change_pending = t.state.change_pending;
  for (Row& row : next.rows) {
    auto& first = t.first_match[row.resolver];
    const bool first_sight =
        !t.has_state || std::none_of(t.state.rows.begin(), t.state.rows.end(),
                                     [&](const Row& r) { return r.resolver == row.resolver; });
    if (row.verdict == Verdict::kMatch && !first) {
      // A resolver that already matches when the daemon learns the answer: lag unknown, 0.
      first =
          (first_sight && t.learned_without_change) ? t.expectation.changed_at : row.observation.at;
    }
    row.lag = lag(t.expectation.changed_at, first, now);
  }
  next.summary = summarize(next.rows, now);
  const auto events = diff(t.has_state ? &t.state : nullptr, next);
  for (const Event& e : events) {
    emit(t, e);
    if (e.kind == EventKind::kPropagationComplete) next.change_pending = false;
  }
  t.state = std::move(next);
  t.has_state = true;

  if (observer != nullptr) {
    NameReport report;
    report.name = t.cfg.name;
    report.qtype = config::to_string(t.cfg.type);
    for (const Row& r : t.state.rows) {
      AnswerReport a;
      a.resolver = r.resolver;
      a.state = to_string(r.verdict);
      a.ttl_seconds = r.observation.ttl;
      if (r.lag) a.lag_seconds = std::chrono::duration<double>(*r.lag).count();
      report.answers.push_back(std::move(a));
    }
    report.answer_groups = t.state.summary.answer_groups;
    report.split_brain = t.state.summary.split_brain;
    report.propagation_ratio = t.state.summary.propagation_ratio;
    report.eta_seconds = std::chrono::duration<double>(t.state.summary.eta).count();
    report.expected_change_unix_seconds = to_unix_seconds(t.expectation.changed_at);
    observer->name_checked(report);
  }
  publish_soon();
  const Duration delay = t.state.change_pending
                             ? next_check(t.state.summary, t.expectation.changed_at, now,
                                          t.cfg.interval, t.cfg.fast_interval)
                             : t.cfg.interval;
  t.timer->start(delay);
}

Monitor::Monitor(EventLoop& loop, resolvers::DnsEngine& engine, const Clock& clock,
                 MonitorObserver* observer, PersistFn persist, EventFn on_event)
    : impl_(std::make_unique<Impl>(loop, engine, clock, observer, std::move(persist),
                                   std::move(on_event))) {}

Monitor::~Monitor() {
  impl_->sweeper.reset();
  impl_->tracks.clear();
}

void Monitor::restore(const nlohmann::json& saved) {
  if (!saved.is_object()) return;
  for (const auto& [key, v] : saved.items()) {
    try {
      Restored r;
      r.current = to_set(v.at("expected").get<std::vector<std::string>>());
      auto changed_at = from_unix(v.at("changed_at").get<double>());
      for (const auto& h : v.at("history"))
        r.history.push_back(to_set(h.get<std::vector<std::string>>()));
      if (changed_at) {
        r.changed_at = *changed_at;
        impl_->restored[key] = std::move(r);
        continue;
      }
    } catch (const nlohmann::json::exception&) {
    }
    spdlog::warn("state: monitor entry {} is not readable; its history starts anew", key);
  }
}

void Monitor::configure(const config::Config& config, const resolvers::ResolverDirectory& directory,
                        const MonitorOptions& options) {
  Impl& m = *impl_;
  m.sweeper.reset();  // in-flight sweeps of the old config end unheard
  m.directory = std::make_unique<resolvers::ResolverDirectory>(directory);

  std::map<std::string, resolvers::ResolverSpec> specs;
  std::vector<ResolverInfo> infos;
  std::vector<WatchedName> names;
  std::map<std::string, Impl::Track> next;
  for (const config::WatchConfig& w : config.watch) {
    const std::string key = w.name + "/" + config::to_string(w.type);
    auto selection = m.directory->select(w.resolvers, false);
    if (!selection) {  // the loader's directory check makes this unreachable
      spdlog::error("{}: {}", key, selection.error().message);
      continue;
    }
    Impl::Track t;
    auto old = m.tracks.find(key);
    if (old != m.tracks.end()) {
      t = std::move(old->second);
      m.tracks.erase(old);
    } else {
      t.generation = m.next_generation++;
    }
    t.cfg = w;
    t.sweeping = false;
    t.request.name = w.name;
    t.request.qtype = qtype_of(w.type);
    t.request.resolvers = selection->resolvers;
    t.show_authoritative = selection->authoritative;
    t.request.authoritative =
        selection->authoritative || w.expect != config::WatchConfig::Expect::kFixed;
    WatchedName wn{w.name, config::to_string(w.type), {}};
    for (const auto& r : selection->resolvers) {
      wn.resolvers.push_back(r.spec.id);
      if (specs.emplace(r.spec.id, r.spec).second) {
        infos.push_back(
            {r.spec.id, r.spec.endpoint(), r.operator_name, r.geo, to_string(r.spec.transport)});
      }
    }
    names.push_back(std::move(wn));
    next.emplace(key, std::move(t));
  }
  for (auto& [key, t] : m.tracks) {
    if (t.timer) t.timer->stop();
  }
  m.tracks = std::move(next);

  // Channels follow the config: gone or changed resolvers are closed, new ones opened.
  for (const auto& [id, spec] : m.engine_specs) {
    auto it = specs.find(id);
    if (it == specs.end() || !(it->second == spec)) m.engine.remove_resolver(id);
  }
  for (const auto& [id, spec] : specs) {
    if (m.engine.has_resolver(id)) continue;
    if (auto ok = m.engine.add_resolver(spec); !ok) spdlog::error("{}", ok.error().message);
  }
  m.engine_specs = std::move(specs);
  // The bootstrap resolver's queries are counted too: it gets its info series.
  infos.push_back({options.bootstrap.id, options.bootstrap.endpoint(), "", "bootstrap",
                   to_string(options.bootstrap.transport)});
  if (m.observer != nullptr) m.observer->monitor_configured(infos, names);

  // A changed bootstrap resolver (or one fixed by a reload) replaces the old channel.
  if (m.bootstrap && !(*m.bootstrap == options.bootstrap)) {
    m.engine.remove_resolver(options.bootstrap.id);
  }
  m.bootstrap = options.bootstrap;
  m.sweeper = std::make_unique<Sweeper>(m.engine, m.clock, *m.directory, options.bootstrap,
                                        options.authoritative_port, m.observer);
  const WallTime now = m.clock.wall_now();
  for (auto& [key, t] : m.tracks) {
    if (t.cfg.expect == config::WatchConfig::Expect::kFixed) {
      m.set_expected(key, t, to_set(t.cfg.expected_addresses), now);
    } else if (t.cfg.expect == config::WatchConfig::Expect::kRecord) {
      if (auto held = m.record_held.find(key); held != m.record_held.end()) {
        m.set_expected(key, t, held->second, now);
      }
    }
    if (!t.timer) {
      const std::string k = key;
      Impl* self = impl_.get();
      t.timer = m.loop.make_timer([self, k] { self->start_sweep(k); });
    }
    t.timer->start(Duration::zero());
  }
  m.publish();
}

void Monitor::record_held(const std::string& name, config::RecordType type,
                          const std::vector<std::string>& addresses) {
  Impl& m = *impl_;
  const std::string key = name + "/" + config::to_string(type);
  const AddressSet held = to_set(addresses);
  m.record_held[key] = held;
  auto it = m.tracks.find(key);
  if (it == m.tracks.end() || it->second.cfg.expect != config::WatchConfig::Expect::kRecord) {
    return;
  }
  Impl::Track& t = it->second;
  const bool changed = !t.expectation.known || t.expectation.current != held;
  m.set_expected(key, t, held, m.clock.wall_now());
  // A new address: look now, then at the fast interval until it has propagated.
  if (changed && !t.sweeping && t.timer) t.timer->start(Duration::zero());
  m.publish();
}

std::string Monitor::status_json() const {
  std::lock_guard<std::mutex> lock(impl_->status_mutex);
  return impl_->status;
}

bool Monitor::ready() const { return impl_->is_ready; }

}  // namespace ddnswatch::monitor
