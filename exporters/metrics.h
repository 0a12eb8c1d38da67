// The metric catalog: every family ddnswatch exports is named, described and registered
// here, once, and fed through the observer interfaces of src/core/observers.h. Domain code
// never sees prometheus-cpp.
#pragma once

#include <memory>
#include <string>

#include "core/observers.h"

namespace ddnswatch::exporters {

struct BuildInfo {
  std::string version;
  std::string revision;
};

/// Thread-safe: observers are called on the loop thread, render() on the HTTP server's.
class Metrics final : public ConfigObserver,
                      public DnsQueryObserver,
                      public MonitorObserver,
                      public NotifyObserver,
                      public IpDetectObserver,
                      public UpdaterObserver {
 public:
  explicit Metrics(const BuildInfo& build);
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void config_loaded(bool ok, WallTime when) override;
  /// After every attempt of the daemon to save the state file in state_dir (loop thread).
  void state_saved(bool ok, WallTime when);

  void dns_query_done(const std::string& resolver, const char* outcome,
                      std::chrono::microseconds latency) override;

  void monitor_configured(const std::vector<ResolverInfo>& resolvers,
                          const std::vector<WatchedName>& names) override;
  void resolver_discovered(const ResolverInfo& resolver) override;
  void resolver_removed(const std::string& id) override;
  void name_checked(const NameReport& report) override;
  void authoritative_serial(const std::string& zone, const std::string& nameserver,
                            uint32_t serial) override;
  void cycle_done(Duration duration, WallTime when) override;

  void ip_sources_configured(const std::string& family,
                             const std::vector<std::string>& sources) override;
  void ip_source_result(const std::string& source, const std::string& family, bool up) override;
  void ip_sources_agreeing(const std::string& family, int agreeing) override;

  void records_configured(const std::vector<RecordInfo>& records) override;
  void record_reconciled(const RecordInfo& record, const char* outcome, Duration took,
                         WallTime when) override;
  void record_in_sync(const std::string& record, bool in_sync) override;
  void public_ip(const std::string& family, const std::string& address, bool changed,
                 WallTime when) override;

  void notify_configured(const std::vector<std::string>& sinks) override;
  void notification_done(const std::string& sink, const char* outcome) override;
  void notification_retried(const std::string& sink) override;
  void notification_queue(const std::string& sink, size_t length) override;

  /// Everything registered, in the Prometheus text exposition format 0.0.4.
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddnswatch::exporters
