// The DDNS updater: for every configured record, the addresses it should hold (the trusted
// public address of its family), its provider, and a timer driven by the pure decisions of
// decision.h. Pending updates and what each provider holds are persisted through PersistFn, so
// that after a crash the update still happens (and a provider that already holds the address
// is only read, not written). Events go to the notifier; what a record holds goes to the
// monitor as the expected answer of a watch with "expect": "record".
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/observers.h"
#include "core/result.h"
#include "providers/provider.h"
#include "updater/decision.h"

namespace ddnswatch::updater {

/// An edge-triggered updater event: record_updated or record_failed.
struct RecordEvent {
  std::string event;
  std::string name;
  std::string qtype;
  std::string detail;  // the addresses, or the reason of the failure
};

/// Loop thread only, except status_json(). Destroy before the loop and the HttpClient.
class Updater {
 public:
  using ProviderFactory =
      std::function<Result<std::unique_ptr<providers::Provider>>(const config::ProviderConfig&)>;
  using PersistFn = std::function<void(const nlohmann::json&)>;
  using EventFn = std::function<void(const RecordEvent&)>;
  /// A record's provider now holds `addresses` (known after a successful reconcile).
  using HeldFn =
      std::function<void(const std::string& name, config::RecordType type, const Addresses&)>;

  Updater(EventLoop& loop, const Clock& clock, ProviderFactory factory, UpdaterObserver* observer,
          PersistFn persist, EventFn on_event, HeldFn on_held);
  ~Updater();
  Updater(const Updater&) = delete;
  Updater& operator=(const Updater&) = delete;

  /// Restores each record's status and pending addresses from the state file's "updater".
  void restore(const nlohmann::json& saved);

  /// Applies a (re)loaded config. A record whose config changed starts afresh (a latch on a
  /// refusal is cleared); others keep their status and schedule.
  void configure(const config::Config& config);

  /// The trusted address of a family: records of type A follow "ipv4", AAAA follow "ipv6".
  /// Never called with "no address": a failed detection leaves the records alone.
  void set_address(config::RecordType type, const std::string& address);

  /// Forgets every refusal (the latch a rejected update sets), so that those records are tried
  /// again: an operator who fixed the cause at the provider says so with SIGHUP.
  void retry_refused();

  /// Reconciles every record that has addresses to hold now, regardless of intervals, and
  /// calls `done` once all have ended (the `once` command).
  void reconcile_all(std::function<void()> done);

  /// Any thread: the "records" member of /status (no secrets).
  std::string status_json() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddnswatch::updater
