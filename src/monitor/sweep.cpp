#include "monitor/sweep.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace ddnswatch::monitor {

using resolvers::Answer;
using resolvers::NamedResolver;
using resolvers::Outcome;
using resolvers::QType;
using resolvers::Question;

namespace {

constexpr auto kZoneCacheTime = std::chrono::minutes(15);

struct AuthServer {
  std::string id;
  std::string nameserver;
  std::string address;
};

struct ZoneInfo {
  std::string zone;
  std::vector<AuthServer> servers;
  SteadyTime found_at{};
};

}  // namespace

std::vector<std::string> addresses_of(const Answer& answer) {
  std::vector<std::string> out;
  for (const auto& r : answer.records) out.push_back(r.value);
  return out;
}

uint32_t min_ttl(const Answer& answer) {
  if (answer.records.empty()) return 0;
  uint32_t ttl = answer.records.front().ttl;
  for (const auto& r : answer.records) ttl = std::min(ttl, r.ttl);
  return ttl;
}

struct Sweeper::Impl : std::enable_shared_from_this<Sweeper::Impl> {
  resolvers::DnsEngine& engine;
  const Clock& clock;
  const resolvers::ResolverDirectory& directory;
  resolvers::ResolverSpec bootstrap;
  uint16_t auth_port;
  MonitorObserver* observer;
  std::map<std::string, ZoneInfo> zones;                   // by watched name
  std::map<std::string, resolvers::ResolverSpec> servers;  // authoritative servers in the engine
  std::map<std::string, std::vector<std::function<void(const ZoneInfo*, std::string)>>>
      lookups;  // zone lookups in progress, by watched name

  Impl(resolvers::DnsEngine& e, const Clock& c, const resolvers::ResolverDirectory& d,
       resolvers::ResolverSpec b, uint16_t p, MonitorObserver* o)
      : engine(e), clock(c), directory(d), bootstrap(std::move(b)), auth_port(p), observer(o) {}

  /// Calls `then` with the zone of `name` (nullptr and a reason when it cannot be found).
  void find_zone(const std::string& name, std::function<void(const ZoneInfo*, std::string)> then);
  void lookup_zone(const std::string& name);
  void zone_found(const std::string& name, const ZoneInfo* zone, const std::string& error);
  /// Closes the channels (and metric series) of servers no zone lists any more.
  void forget_unused(const std::vector<AuthServer>& candidates);
};

void Sweeper::Impl::forget_unused(const std::vector<AuthServer>& candidates) {
  for (const AuthServer& s : candidates) {
    const bool used = std::any_of(zones.begin(), zones.end(), [&](const auto& z) {
      return std::any_of(z.second.servers.begin(), z.second.servers.end(),
                         [&](const AuthServer& x) { return x.id == s.id; });
    });
    if (used) continue;
    servers.erase(s.id);
    engine.remove_resolver(s.id);
    if (observer != nullptr) observer->resolver_removed(s.id);
  }
}

void Sweeper::Impl::find_zone(const std::string& name,
                              std::function<void(const ZoneInfo*, std::string)> then) {
  auto it = zones.find(name);
  if (it != zones.end() && clock.steady_now() - it->second.found_at < kZoneCacheTime) {
    then(&it->second, "");
    return;
  }
  auto& waiting = lookups[name];
  waiting.push_back(std::move(then));
  if (waiting.size() == 1) lookup_zone(name);
}

void Sweeper::Impl::zone_found(const std::string& name, const ZoneInfo* zone,
                               const std::string& error) {
  if (!error.empty()) spdlog::warn("authoritative servers of {}: {}", name, error);
  auto waiting = std::move(lookups[name]);
  lookups.erase(name);
  for (auto& w : waiting) w(zone, error);
}

void Sweeper::Impl::lookup_zone(const std::string& name) {
  std::weak_ptr<Impl> weak = shared_from_this();
  // 1. The zone cut: the SOA in the answer (the name is an apex) or in the authority section.
  engine.query(bootstrap.id, Question{name, QType::kSOA}, [weak, name](const Answer& soa) {
    auto self = weak.lock();
    if (!self) return;
    if (!soa.soa) {
      self->zone_found(name, nullptr,
                       fmt::format("no SOA for {} at bootstrap resolver {} ({})", name,
                                   self->bootstrap.endpoint(), to_string(soa.outcome)));
      return;
    }
    const std::string zone = soa.soa->zone;
    // 2. The zone's NS set.
    self->engine.query(
        self->bootstrap.id, Question{zone, QType::kNS}, [weak, name, zone](const Answer& ns) {
          auto self2 = weak.lock();
          if (!self2) return;
          if (ns.records.empty()) {
            self2->zone_found(
                name, nullptr,
                fmt::format("no NS records for zone {} ({})", zone, to_string(ns.outcome)));
            return;
          }
          // 3. Each server's IPv4 addresses.
          auto info = std::make_shared<ZoneInfo>();
          info->zone = zone;
          auto remaining = std::make_shared<size_t>(ns.records.size());
          auto addresses = std::make_shared<std::map<std::string, std::vector<std::string>>>();
          for (const auto& record : ns.records) {
            const std::string host = record.value;
            self2->engine.query(
                self2->bootstrap.id, Question{host, QType::kA},
                [weak, name, info, remaining, addresses, host](const Answer& a) {
                  auto self3 = weak.lock();
                  if (!self3) return;
                  (*addresses)[host] = addresses_of(a);
                  if (--*remaining > 0) return;
                  for (const auto& [server, list] : *addresses) {
                    for (const auto& address : list) {
                      std::string id = "auth:" + server;
                      if (list.size() > 1) id += "@" + address;
                      info->servers.push_back({id, server, address});
                    }
                  }
                  if (info->servers.empty()) {
                    self3->zone_found(
                        name, nullptr,
                        fmt::format("no address for any nameserver of {}", info->zone));
                    return;
                  }
                  for (const auto& s : info->servers) {
                    auto spec =
                        self3->directory.authoritative_spec(s.id, s.address, self3->auth_port);
                    // Another name's check may be using the server: keep it unless it moved.
                    auto known = self3->servers.find(s.id);
                    if (known != self3->servers.end() && known->second == spec &&
                        self3->engine.has_resolver(s.id)) {
                      continue;
                    }
                    if (self3->engine.has_resolver(s.id)) self3->engine.remove_resolver(s.id);
                    self3->servers[s.id] = spec;
                    if (auto ok = self3->engine.add_resolver(spec); !ok) {
                      spdlog::error("{}", ok.error().message);
                      continue;
                    }
                    if (self3->observer != nullptr) {
                      self3->observer->resolver_discovered(
                          {s.id, spec.endpoint(), "", "authoritative", "udp"});
                    }
                  }
                  info->found_at = self3->clock.steady_now();
                  auto& slot = self3->zones[name];
                  const std::vector<AuthServer> before = slot.servers;
                  slot = *info;
                  self3->forget_unused(before);
                  self3->zone_found(name, &slot, "");
                });
          }
        });
  });
}

Sweeper::Sweeper(resolvers::DnsEngine& engine, const Clock& clock,
                 const resolvers::ResolverDirectory& directory, resolvers::ResolverSpec bootstrap,
                 uint16_t authoritative_port, MonitorObserver* observer)
    : impl_(std::make_shared<Impl>(engine, clock, directory, std::move(bootstrap),
                                   authoritative_port, observer)) {
  if (!engine.has_resolver(impl_->bootstrap.id)) {
    if (auto ok = engine.add_resolver(impl_->bootstrap); !ok) {
      spdlog::error("bootstrap resolver: {}", ok.error().message);
    }
  }
}

Sweeper::~Sweeper() = default;

void Sweeper::sweep(const SweepRequest& request, std::function<void(SweepResult)> done) {
  struct State {
    SweepResult result;
    size_t remaining = 0;
    std::function<void(SweepResult)> done;
    SteadyTime started{};
  };
  auto state = std::make_shared<State>();
  state->result.name = request.name;
  state->result.qtype = request.qtype;
  state->result.started = impl_->clock.wall_now();
  state->started = impl_->clock.steady_now();
  state->done = std::move(done);
  state->result.answers.resize(request.resolvers.size());
  // One extra count for the authoritative part (or for nothing): keeps `done` from running
  // before every query has been queued.
  state->remaining = request.resolvers.size() + 1;
  std::weak_ptr<Impl> weak = impl_;
  auto finish_one = [state, weak] {
    if (--state->remaining > 0) return;
    auto self = weak.lock();
    if (!self) return;
    state->result.duration =
        std::chrono::duration_cast<Duration>(self->clock.steady_now() - state->started);
    state->done(std::move(state->result));
  };

  for (size_t i = 0; i < request.resolvers.size(); ++i) {
    const NamedResolver& r = request.resolvers[i];
    state->result.answers[i].first = r;
    if (!impl_->engine.has_resolver(r.spec.id)) {
      if (auto ok = impl_->engine.add_resolver(r.spec); !ok) {
        spdlog::error("{}", ok.error().message);
      }
    }
    impl_->engine.query(r.spec.id, Question{request.name, request.qtype},
                        [state, i, finish_one](const Answer& a) {
                          state->result.answers[i].second = a;
                          finish_one();
                        });
  }

  if (!request.authoritative) {
    finish_one();
    return;
  }
  const std::string name = request.name;
  const QType qtype = request.qtype;
  impl_->find_zone(
      name, [state, weak, name, qtype, finish_one](const ZoneInfo* zone, std::string error) {
        auto self = weak.lock();
        if (!self) return;
        if (zone == nullptr) {
          state->result.authoritative_error = std::move(error);
          finish_one();
          return;
        }
        state->result.zone = zone->zone;
        state->result.authoritative.resize(zone->servers.size());
        // Two queries per server: the watched name (no recursion) and the zone's SOA.
        state->remaining += 2 * zone->servers.size();
        for (size_t i = 0; i < zone->servers.size(); ++i) {
          const AuthServer& s = zone->servers[i];
          auto& slot = state->result.authoritative[i];
          slot.resolver = s.id;
          slot.nameserver = s.nameserver;
          slot.address = s.address;
          self->engine.query(s.id, Question{name, qtype}, [state, i, finish_one](const Answer& a) {
            state->result.authoritative[i].answer = a;
            finish_one();
          });
          self->engine.query(s.id, Question{zone->zone, QType::kSOA},
                             [state, i, finish_one, weak, zname = zone->zone](const Answer& a) {
                               if (a.soa && a.outcome == Outcome::kNoError) {
                                 state->result.authoritative[i].serial = a.soa->serial;
                                 auto self2 = weak.lock();
                                 if (self2 && self2->observer != nullptr) {
                                   self2->observer->authoritative_serial(
                                       zname, state->result.authoritative[i].resolver.substr(5),
                                       a.soa->serial);
                                 }
                               }
                               finish_one();
                             });
        }
        finish_one();
      });
}

}  // namespace ddnswatch::monitor
