// The propagation monitor: checks each watched (name, qtype) on its own timer, keeps the
// expected answer (from the config or the zone's authoritative servers) with its history,
// judges every resolver's answer, derives the name's figures, logs edge-triggered events and
// reports everything to the observer. The history survives restarts through the state file.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/observers.h"
#include "monitor/analyzer.h"
#include "resolvers/directory.h"
#include "resolvers/dns_engine.h"

namespace ddnswatch::monitor {

/// An event as it is logged and (later) sent to notification sinks.
struct NameEvent {
  std::string name;
  std::string qtype;
  Event event;
};

struct MonitorOptions {
  resolvers::ResolverSpec bootstrap;  // recursive resolver for zone lookups
  uint16_t authoritative_port = 53;
};

/// Loop thread only. Destroy before the engine and the loop.
class Monitor {
 public:
  using PersistFn = std::function<void(const nlohmann::json&)>;
  using EventFn = std::function<void(const NameEvent&)>;

  Monitor(EventLoop& loop, resolvers::DnsEngine& engine, const Clock& clock,
          MonitorObserver* observer, PersistFn persist, EventFn on_event = {});
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  /// Restores expected answers and their history from the state file's "monitor" member.
  void restore(const nlohmann::json& saved);

  /// Applies a (re)loaded config: names and resolvers no longer configured are dropped, new
  /// ones start at once, unchanged ones keep their state and schedule.
  void configure(const config::Config& config, const resolvers::ResolverDirectory& directory,
                 const MonitorOptions& options);

  /// The updater's provider now holds `addresses` for the record NAME/TYPE: a watch of it
  /// with "expect": "record" expects them from now on (and checks at once if they changed).
  void record_held(const std::string& name, config::RecordType type,
                   const std::vector<std::string>& addresses);

  /// Any thread: the state of every watched name and the last events, as the JSON document of
  /// /status (no secrets: names, addresses, verdicts, timings).
  std::string status_json() const;
  /// Any thread: true once every watched name has been checked at least once since start
  /// (at once when nothing is watched); it stays true across reloads.
  bool ready() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// What a sweep says the expected answer is, by the zone's authoritative servers: the answer
/// of the server with the newest SOA serial (RFC 1982) among those that answered with the AA
/// flag. nullopt when none did, or when the name is a CNAME out of the zone.
std::optional<AddressSet> expected_from_authoritative(const struct SweepResult& sweep);

/// The rows of a sweep judged against `expectation` (resolvers first, then authoritative
/// servers when `include_authoritative`).
std::vector<Row> judge(const struct SweepResult& sweep, const Expectation& expectation,
                       bool include_authoritative);

}  // namespace ddnswatch::monitor
