// The interfaces through which domain code reports what happens, without knowing who listens
// (the metric catalog in exporters/, later the event sinks). Each says which thread calls it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace ddnswatch {

/// Called on the loop thread after every attempt to load the config (start-up and reloads).
class ConfigObserver {
 public:
  virtual ~ConfigObserver() = default;
  virtual void config_loaded(bool ok, WallTime when) = 0;
};

/// Called on the loop thread when a DNS query ends. `outcome` is one of the engine's outcome
/// names (noerror, nodata, nxdomain, servfail, refused, timeout, network, malformed).
class DnsQueryObserver {
 public:
  virtual ~DnsQueryObserver() = default;
  virtual void dns_query_done(const std::string& resolver, const char* outcome,
                              std::chrono::microseconds latency) = 0;
};

/// A resolver as the metrics label it (ddnswatch_resolver_info).
struct ResolverInfo {
  std::string id;
  std::string address;  // "192.0.2.1:53"
  std::string operator_name;
  std::string geo;
  std::string protocol;  // udp, udp-only, tcp
};

/// A watched (name, qtype) pair and the resolvers asked for it.
struct WatchedName {
  std::string name;
  std::string qtype;
  std::vector<std::string> resolvers;  // ids; authoritative servers join at run time
};

/// One resolver's line of a name's check.
struct AnswerReport {
  std::string resolver;
  std::string state;  // match, stale, foreign, empty, nxdomain, error
  double ttl_seconds = 0;
  std::optional<double> lag_seconds;
};

/// The result of one check of a name.
struct NameReport {
  std::string name;
  std::string qtype;
  std::vector<AnswerReport> answers;
  int answer_groups = 0;
  bool split_brain = false;
  double propagation_ratio = 0;
  double eta_seconds = 0;
  std::optional<double> expected_change_unix_seconds;  // unset while the expectation is unknown
};

/// Called on the loop thread by the propagation monitor.
class MonitorObserver {
 public:
  virtual ~MonitorObserver() = default;
  /// The config (re)loaded: these resolvers and names exist now, and nothing else does.
  virtual void monitor_configured(const std::vector<ResolverInfo>& resolvers,
                                  const std::vector<WatchedName>& names) = 0;
  /// A resolver found at run time (a zone's authoritative server).
  virtual void resolver_discovered(const ResolverInfo& resolver) = 0;
  /// A resolver found at run time is gone (it left the zone's NS set, or its address changed).
  virtual void resolver_removed(const std::string& id) = 0;
  virtual void name_checked(const NameReport& report) = 0;
  virtual void authoritative_serial(const std::string& zone, const std::string& nameserver,
                                    uint32_t serial) = 0;
  virtual void cycle_done(Duration duration, WallTime when) = 0;
};

/// Called on the loop thread by the IP detector after each detection of a family
/// ("ipv4"/"ipv6").
class IpDetectObserver {
 public:
  virtual ~IpDetectObserver() = default;
  /// The config (re)loaded: these sources exist per family now, and nothing else does.
  virtual void ip_sources_configured(const std::string& family,
                                     const std::vector<std::string>& sources) = 0;
  /// One source's last request: answered with a valid, non-bogon address (up) or not.
  virtual void ip_source_result(const std::string& source, const std::string& family, bool up) = 0;
  /// The sources that agree with the chosen address (0 when nothing reached the quorum).
  virtual void ip_sources_agreeing(const std::string& family, int agreeing) = 0;
};

/// A managed record as the metrics label it.
struct RecordInfo {
  std::string record;    // "home.example.com/A"
  std::string provider;  // the provider kind: cloudflare, rfc2136, ...
};

/// Called on the loop thread by the updater (and, for public_ip, by the detection loop).
class UpdaterObserver {
 public:
  virtual ~UpdaterObserver() = default;
  /// The config (re)loaded: these records exist now, and nothing else does.
  virtual void records_configured(const std::vector<RecordInfo>& records) = 0;
  /// One reconciliation ended with `outcome` (updated, unchanged, failed, rate_limited,
  /// rejected) after `took`.
  virtual void record_reconciled(const RecordInfo& record, const char* outcome, Duration took,
                                 WallTime when) = 0;
  virtual void record_in_sync(const std::string& record, bool in_sync) = 0;
  /// The trusted address of a family ("ipv4"/"ipv6"); `changed` when it differs from the
  /// previous one (not on the first detection after a start without state).
  virtual void public_ip(const std::string& family, const std::string& address, bool changed,
                         WallTime when) = 0;
};

/// Called on the loop thread by the notifier. `sink` is a webhook's name or "alertmanager".
class NotifyObserver {
 public:
  virtual ~NotifyObserver() = default;
  /// The config (re)loaded: these sinks exist now, and nothing else does.
  virtual void notify_configured(const std::vector<std::string>& sinks) = 0;
  /// A message left the queue: "delivered", "failed" (refused, or out of attempts) or "dropped"
  /// (the queue was full, or the sink was removed).
  virtual void notification_done(const std::string& sink, const char* outcome) = 0;
  /// An attempt failed and another one is scheduled.
  virtual void notification_retried(const std::string& sink) = 0;
  virtual void notification_queue(const std::string& sink, size_t length) = 0;
};

}  // namespace ddnswatch
