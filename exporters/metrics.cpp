#include "exporters/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

namespace ddnswatch::exporters {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using Labels = std::map<std::string, std::string>;

// The values of the monitor's enumerated labels; every one gets a series up front so that a
// zero is a zero, not a missing series.
const char* const kOutcomes[] = {"noerror", "nodata",  "nxdomain", "servfail",
                                 "refused", "timeout", "network",  "malformed"};
const char* const kRecordOutcomes[] = {"updated", "unchanged", "failed", "rate_limited",
                                       "rejected"};
const char* const kNotificationOutcomes[] = {"delivered", "failed", "dropped"};
const char* const kStates[] = {"match", "stale", "foreign", "empty", "nxdomain", "error"};

/// Children of one family keyed by their label values, so that a reload can remove exactly
/// the series whose labels left the config. Loop thread only (prometheus-cpp itself is
/// thread-safe for the HTTP thread's collection).
template <typename T>
class Series {
 public:
  explicit Series(Family<T>& family) : family_(family) {}

  template <typename... Args>
  T& get(const Labels& labels, Args&&... args) {
    auto it = children_.find(labels);
    if (it != children_.end()) return *it->second;
    T& child = family_.Add(labels, std::forward<Args>(args)...);
    children_.emplace(labels, &child);
    return child;
  }

  /// Removes every series for which `keep` is false.
  template <typename Keep>
  void retain(Keep keep) {
    retain_from(
        children_.begin(), [](const Labels&) { return true; }, keep);
  }

  /// As retain, among the series whose labels begin with `prefix` (in the order of the label
  /// names) only. Those are next to each other in the map, so the others are not visited: a
  /// name's check costs its own series, not every name's.
  template <typename Keep>
  void retain_prefixed(const Labels& prefix, Keep keep) {
    retain_from(
        children_.lower_bound(prefix),
        [&](const Labels& labels) {
          return labels.size() >= prefix.size() &&
                 std::equal(prefix.begin(), prefix.end(), labels.begin());
        },
        keep);
  }

 private:
  template <typename Within, typename Keep>
  void retain_from(typename std::map<Labels, T*>::iterator it, Within within, Keep keep) {
    while (it != children_.end() && within(it->first)) {
      if (keep(it->first)) {
        ++it;
      } else {
        family_.Remove(it->second);
        it = children_.erase(it);
      }
    }
  }

  Family<T>& family_;
  std::map<Labels, T*> children_;
};

Histogram::BucketBoundaries latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace

struct Metrics::Impl {
  prometheus::Registry registry;
  Gauge* reload_successful = nullptr;
  Gauge* reload_success_timestamp = nullptr;
  Counter* state_write_errors = nullptr;
  Gauge* state_write_successful = nullptr;
  Gauge* state_write_success_timestamp = nullptr;

  Family<Gauge>& resolver_info_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_resolver_info")
          .Help(
              "A configured or discovered resolver with its address, operator, geography and "
              "protocol; the value is always 1.")
          .Register(registry);
  Family<Histogram>& query_duration_family =
      prometheus::BuildHistogram()
          .Name("ddnswatch_dns_query_duration_seconds")
          .Help("Round-trip time of DNS queries per resolver, retries included.")
          .Register(registry);
  Family<Counter>& queries_family =
      prometheus::BuildCounter()
          .Name("ddnswatch_dns_queries_total")
          .Help(
              "DNS queries per resolver by outcome: noerror, nodata, nxdomain, servfail, refused, "
              "timeout, network, malformed.")
          .Register(registry);
  Family<Gauge>& state_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_dns_answer_state")
          .Help(
              "1 for the current verdict on a resolver's answer for a name (match, stale, "
              "foreign, empty, nxdomain, error), 0 for the others.")
          .Register(registry);
  Family<Gauge>& ttl_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_dns_answer_ttl_seconds")
          .Help("TTL of the address records a resolver returned for a name.")
          .Register(registry);
  Family<Gauge>& groups_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_dns_answer_groups")
          .Help("Distinct answers (address sets, NXDOMAIN) among the resolvers that answered.")
          .Register(registry);
  Family<Gauge>& split_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_split_brain")
          .Help(
              "1 when a resolver answers a foreign address or answering resolvers disagree "
              "beyond stale caches.")
          .Register(registry);
  Family<Gauge>& ratio_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_propagation_ratio")
          .Help("Share of the answering resolvers that return the expected answer.")
          .Register(registry);
  Family<Gauge>& lag_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_propagation_lag_seconds")
          .Help(
              "Time from the last change of the expected answer to this resolver's first match "
              "(the time so far while it does not match).")
          .Register(registry);
  Family<Gauge>& eta_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_propagation_eta_seconds")
          .Help("Time until the last stale answer's TTL runs out; 0 when none is stale.")
          .Register(registry);
  Family<Gauge>& change_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_expected_change_timestamp_seconds")
          .Help("Unix time when the expected answer of a name last changed.")
          .Register(registry);
  Family<Gauge>& serial_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_authoritative_serial")
          .Help("SOA serial of the zone seen at each authoritative server.")
          .Register(registry);
  Gauge& cycle_duration =
      prometheus::BuildGauge()
          .Name("ddnswatch_monitor_cycle_duration_seconds")
          .Help("Duration of the last check of a watched name (all its queries).")
          .Register(registry)
          .Add({});
  Gauge& last_cycle = prometheus::BuildGauge()
                          .Name("ddnswatch_monitor_last_cycle_timestamp_seconds")
                          .Help("Unix time of the last completed check of a watched name.")
                          .Register(registry)
                          .Add({});

  Family<Counter>& notifications_family =
      prometheus::BuildCounter()
          .Name("ddnswatch_notifications_total")
          .Help(
              "Notification messages per sink (a webhook's name, or alertmanager) by outcome: "
              "delivered, failed (refused, or out of attempts), dropped (queue full, or the sink "
              "was removed).")
          .Register(registry);
  Family<Counter>& notification_retries_family =
      prometheus::BuildCounter()
          .Name("ddnswatch_notification_retries_total")
          .Help("Delivery attempts that failed and were scheduled again, per sink.")
          .Register(registry);
  Family<Gauge>& notification_queue_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_notification_queue_length")
          .Help("Messages waiting for delivery (or in flight) per sink.")
          .Register(registry);

  Family<Gauge>& public_ip_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_public_ip_info")
          .Help("The trusted public address of a family; the value is always 1.")
          .Register(registry);
  Family<Counter>& ip_changes_family =
      prometheus::BuildCounter()
          .Name("ddnswatch_public_ip_changes_total")
          .Help("Changes of the trusted public address per family (a restart is not a change).")
          .Register(registry);
  Family<Gauge>& ip_change_time_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_public_ip_last_change_timestamp_seconds")
          .Help("Unix time when the trusted public address of a family last changed.")
          .Register(registry);
  Family<Gauge>& ip_source_up_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_ip_source_up")
          .Help(
              "1 if the IP source's last answer was a valid public address of the family, else "
              "0.")
          .Register(registry);
  Family<Gauge>& ip_agreeing_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_ip_sources_agreeing")
          .Help("IP sources that agree with the chosen address (0 when no address was trusted).")
          .Register(registry);
  Family<Counter>& record_updates_family =
      prometheus::BuildCounter()
          .Name("ddnswatch_record_updates_total")
          .Help(
              "Reconciliations of a record with its provider by outcome: updated, unchanged, "
              "failed, rate_limited, rejected.")
          .Register(registry);
  Family<Gauge>& record_in_sync_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_record_in_sync")
          .Help("1 if the provider holds the record's desired addresses, else 0.")
          .Register(registry);
  Family<Gauge>& record_update_time_family =
      prometheus::BuildGauge()
          .Name("ddnswatch_record_last_update_timestamp_seconds")
          .Help("Unix time of the last write of a record at its provider.")
          .Register(registry);
  Family<Histogram>& provider_duration_family =
      prometheus::BuildHistogram()
          .Name("ddnswatch_provider_request_duration_seconds")
          .Help("Duration of a record's reconciliation with its provider (read and write).")
          .Register(registry);

  Series<Gauge> public_ip{public_ip_family};
  Series<Counter> ip_changes{ip_changes_family};
  Series<Gauge> ip_change_time{ip_change_time_family};
  Series<Gauge> ip_source_up{ip_source_up_family};
  Series<Gauge> ip_agreeing{ip_agreeing_family};
  Series<Counter> record_updates{record_updates_family};
  Series<Gauge> record_in_sync{record_in_sync_family};
  Series<Gauge> record_update_time{record_update_time_family};
  Series<Histogram> provider_duration{provider_duration_family};
  Series<Gauge> resolver_info{resolver_info_family};
  Series<Counter> notifications{notifications_family};
  Series<Counter> notification_retries{notification_retries_family};
  Series<Gauge> notification_queue{notification_queue_family};
  Series<Histogram> query_duration{query_duration_family};
  Series<Counter> queries{queries_family};
  Series<Gauge> state{state_family};
  Series<Gauge> ttl{ttl_family};
  Series<Gauge> groups{groups_family};
  Series<Gauge> split{split_family};
  Series<Gauge> ratio{ratio_family};
  Series<Gauge> lag{lag_family};
  Series<Gauge> eta{eta_family};
  Series<Gauge> change{change_family};
  Series<Gauge> serial{serial_family};

  void add_resolver(const ResolverInfo& r) {
    resolver_info
        .get({{"resolver", r.id},
              {"address", r.address},
              {"operator", r.operator_name},
              {"geo", r.geo},
              {"protocol", r.protocol}})
        .Set(1);
    query_duration.get({{"resolver", r.id}}, latency_buckets());
    for (const char* o : kOutcomes) queries.get({{"resolver", r.id}, {"outcome", o}});
  }

  void add_pair(const std::string& name, const std::string& qtype, const std::string& resolver) {
    for (const char* s : kStates) {
      state.get({{"name", name}, {"qtype", qtype}, {"resolver", resolver}, {"state", s}});
    }
    ttl.get({{"name", name}, {"qtype", qtype}, {"resolver", resolver}});
    lag.get({{"name", name}, {"qtype", qtype}, {"resolver", resolver}});
  }
};

Metrics::Metrics(const BuildInfo& build) : impl_(std::make_unique<Impl>()) {
  auto& r = impl_->registry;
  // prometheus-cpp 1.0 has no Info type: a gauge fixed at 1 carries the labels.
  prometheus::BuildGauge()
      .Name("ddnswatch_build_info")
      .Help("Build information of the running ddnswatch; the value is always 1.")
      .Register(r)
      .Add({{"version", build.version}, {"revision", build.revision}})
      .Set(1);
  impl_->reload_successful =
      &prometheus::BuildGauge()
           .Name("ddnswatch_config_last_reload_successful")
           .Help(
               "Whether the last attempt to load the configuration succeeded (1) or was "
               "rejected (0).")
           .Register(r)
           .Add({});
  impl_->reload_success_timestamp =
      &prometheus::BuildGauge()
           .Name("ddnswatch_config_last_reload_success_timestamp_seconds")
           .Help("Unix time of the last successful configuration load.")
           .Register(r)
           .Add({});
  impl_->state_write_errors =
      &prometheus::BuildCounter()
           .Name("ddnswatch_state_write_errors_total")
           .Help(
               "Attempts to save the state file in state_dir that failed (folder full, "
               "read-only, missing); the previous file stays in place.")
           .Register(r)
           .Add({});
  impl_->state_write_successful =
      &prometheus::BuildGauge()
           .Name("ddnswatch_state_last_write_successful")
           .Help("Whether the last attempt to save the state file succeeded (1) or failed (0).")
           .Register(r)
           .Add({});
  impl_->state_write_success_timestamp =
      &prometheus::BuildGauge()
           .Name("ddnswatch_state_last_write_success_timestamp_seconds")
           .Help("Unix time of the last successful save of the state file.")
           .Register(r)
           .Add({});
}

Metrics::~Metrics() = default;

void Metrics::config_loaded(bool ok, WallTime when) {
  impl_->reload_successful->Set(ok ? 1 : 0);
  if (ok) impl_->reload_success_timestamp->Set(to_unix_seconds(when));
}

void Metrics::state_saved(bool ok, WallTime when) {
  impl_->state_write_successful->Set(ok ? 1 : 0);
  if (ok) {
    impl_->state_write_success_timestamp->Set(to_unix_seconds(when));
  } else {
    impl_->state_write_errors->Increment();
  }
}

void Metrics::dns_query_done(const std::string& resolver, const char* outcome,
                             std::chrono::microseconds latency) {
  impl_->queries.get({{"resolver", resolver}, {"outcome", outcome}}).Increment();
  impl_->query_duration.get({{"resolver", resolver}}, latency_buckets())
      .Observe(std::chrono::duration<double>(latency).count());
}

void Metrics::monitor_configured(const std::vector<ResolverInfo>& resolvers,
                                 const std::vector<WatchedName>& names) {
  Impl& m = *impl_;
  std::set<std::string> ids;
  for (const auto& r : resolvers) ids.insert(r.id);
  std::set<std::pair<std::string, std::string>> pairs;
  std::set<std::tuple<std::string, std::string, std::string>> triples;
  for (const auto& n : names) {
    pairs.emplace(n.name, n.qtype);
    for (const auto& r : n.resolvers) triples.emplace(n.name, n.qtype, r);
  }
  // Everything not in the new config goes, discovered authoritative servers included (they
  // come back at the next check of their zone).
  auto by_resolver = [&](const Labels& l) { return ids.count(l.at("resolver")) != 0; };
  m.resolver_info.retain([&](const Labels& l) {
    return std::any_of(resolvers.begin(), resolvers.end(), [&](const ResolverInfo& r) {
      return r.id == l.at("resolver") && r.address == l.at("address") &&
             r.operator_name == l.at("operator") && r.geo == l.at("geo") &&
             r.protocol == l.at("protocol");
    });
  });
  m.query_duration.retain(by_resolver);
  m.queries.retain(by_resolver);
  auto by_pair = [&](const Labels& l) { return pairs.count({l.at("name"), l.at("qtype")}) != 0; };
  auto by_triple = [&](const Labels& l) {
    return triples.count({l.at("name"), l.at("qtype"), l.at("resolver")}) != 0;
  };
  m.state.retain(by_triple);
  m.ttl.retain(by_triple);
  m.lag.retain(by_triple);
  for (auto* s : {&m.groups, &m.split, &m.ratio, &m.eta, &m.change}) s->retain(by_pair);
  m.serial.retain([](const Labels&) { return false; });

  for (const auto& r : resolvers) m.add_resolver(r);
  for (const auto& n : names) {
    const Labels l{{"name", n.name}, {"qtype", n.qtype}};
    for (auto* s : {&m.groups, &m.split, &m.ratio, &m.eta, &m.change}) s->get(l);
    for (const auto& r : n.resolvers) m.add_pair(n.name, n.qtype, r);
  }
}

void Metrics::resolver_discovered(const ResolverInfo& resolver) {
  // An address change replaces the server's info series rather than adding a second one.
  impl_->resolver_info.retain([&](const Labels& l) {
    return l.at("resolver") != resolver.id || l.at("address") == resolver.address;
  });
  impl_->add_resolver(resolver);
}

void Metrics::resolver_removed(const std::string& id) {
  Impl& m = *impl_;
  auto other = [&](const Labels& l) { return l.at("resolver") != id; };
  m.resolver_info.retain(other);
  m.query_duration.retain(other);
  m.queries.retain(other);
  m.state.retain(other);
  m.ttl.retain(other);
  m.lag.retain(other);
}

void Metrics::name_checked(const NameReport& report) {
  Impl& m = *impl_;
  const Labels l{{"name", report.name}, {"qtype", report.qtype}};
  // Authoritative servers come and go with the zone's NS set: keep only this report's.
  std::set<std::string> present;
  for (const auto& a : report.answers) present.insert(a.resolver);
  auto current = [&](const Labels& labels) {
    return labels.at("resolver").rfind("auth:", 0) != 0 || present.count(labels.at("resolver"));
  };
  // The series of this name and qtype only: "name" and "qtype" sort first among their labels.
  m.state.retain_prefixed(l, current);
  m.ttl.retain_prefixed(l, current);
  m.lag.retain_prefixed(l, current);
  for (const auto& a : report.answers) {
    m.add_pair(report.name, report.qtype, a.resolver);
    for (const char* s : kStates) {
      m.state
          .get({{"name", report.name},
                {"qtype", report.qtype},
                {"resolver", a.resolver},
                {"state", s}})
          .Set(a.state == s ? 1 : 0);
    }
    const Labels rl{{"name", report.name}, {"qtype", report.qtype}, {"resolver", a.resolver}};
    m.ttl.get(rl).Set(a.ttl_seconds);
    if (a.lag_seconds) m.lag.get(rl).Set(*a.lag_seconds);
  }
  m.groups.get(l).Set(report.answer_groups);
  m.split.get(l).Set(report.split_brain ? 1 : 0);
  m.ratio.get(l).Set(report.propagation_ratio);
  m.eta.get(l).Set(report.eta_seconds);
  if (report.expected_change_unix_seconds) {
    m.change.get(l).Set(*report.expected_change_unix_seconds);
  }
}

void Metrics::notify_configured(const std::vector<std::string>& sinks) {
  Impl& m = *impl_;
  std::set<std::string> names(sinks.begin(), sinks.end());
  auto keep = [&](const Labels& l) { return names.count(l.at("sink")) != 0; };
  m.notifications.retain(keep);
  m.notification_retries.retain(keep);
  m.notification_queue.retain(keep);
  for (const auto& sink : sinks) {
    for (const char* o : kNotificationOutcomes)
      m.notifications.get({{"sink", sink}, {"outcome", o}});
    m.notification_retries.get({{"sink", sink}});
    m.notification_queue.get({{"sink", sink}});
  }
}

void Metrics::notification_done(const std::string& sink, const char* outcome) {
  impl_->notifications.get({{"sink", sink}, {"outcome", outcome}}).Increment();
}

void Metrics::notification_retried(const std::string& sink) {
  impl_->notification_retries.get({{"sink", sink}}).Increment();
}

void Metrics::notification_queue(const std::string& sink, size_t length) {
  impl_->notification_queue.get({{"sink", sink}}).Set(static_cast<double>(length));
}

void Metrics::ip_sources_configured(const std::string& family,
                                    const std::vector<std::string>& sources) {
  Impl& m = *impl_;
  std::set<std::string> keep(sources.begin(), sources.end());
  m.ip_source_up.retain(
      [&](const Labels& l) { return l.at("family") != family || keep.count(l.at("source")) != 0; });
  if (sources.empty()) {
    auto other = [&](const Labels& l) { return l.at("family") != family; };
    m.ip_agreeing.retain(other);
    m.ip_changes.retain(other);
    m.ip_change_time.retain(other);
    m.public_ip.retain(other);
    return;
  }
  for (const auto& s : sources) m.ip_source_up.get({{"source", s}, {"family", family}});
  m.ip_agreeing.get({{"family", family}});
  m.ip_changes.get({{"family", family}});
  m.ip_change_time.get({{"family", family}});
}

void Metrics::ip_source_result(const std::string& source, const std::string& family, bool up) {
  impl_->ip_source_up.get({{"source", source}, {"family", family}}).Set(up ? 1 : 0);
}

void Metrics::ip_sources_agreeing(const std::string& family, int agreeing) {
  impl_->ip_agreeing.get({{"family", family}}).Set(agreeing);
}

void Metrics::records_configured(const std::vector<RecordInfo>& records) {
  Impl& m = *impl_;
  std::set<std::pair<std::string, std::string>> pairs;
  std::set<std::string> ids;
  std::set<std::string> kinds;
  for (const auto& r : records) {
    pairs.emplace(r.record, r.provider);
    ids.insert(r.record);
    kinds.insert(r.provider);
  }
  m.record_updates.retain([&](const Labels& l) {
    return pairs.count({l.at("record"), l.at("provider")}) != 0;
  });
  auto by_record = [&](const Labels& l) { return ids.count(l.at("record")) != 0; };
  m.record_in_sync.retain(by_record);
  m.record_update_time.retain(by_record);
  m.provider_duration.retain([&](const Labels& l) { return kinds.count(l.at("provider")) != 0; });
  for (const auto& r : records) {
    for (const char* o : kRecordOutcomes) {
      m.record_updates.get({{"record", r.record}, {"provider", r.provider}, {"outcome", o}});
    }
    m.record_in_sync.get({{"record", r.record}});
    m.record_update_time.get({{"record", r.record}});
    m.provider_duration.get({{"provider", r.provider}}, latency_buckets());
  }
}

void Metrics::record_reconciled(const RecordInfo& record, const char* outcome, Duration took,
                                WallTime when) {
  Impl& m = *impl_;
  m.record_updates
      .get({{"record", record.record}, {"provider", record.provider}, {"outcome", outcome}})
      .Increment();
  m.provider_duration.get({{"provider", record.provider}}, latency_buckets())
      .Observe(std::chrono::duration<double>(took).count());
  if (std::string_view(outcome) == "updated") {
    m.record_update_time.get({{"record", record.record}}).Set(to_unix_seconds(when));
  }
}

void Metrics::record_in_sync(const std::string& record, bool in_sync) {
  impl_->record_in_sync.get({{"record", record}}).Set(in_sync ? 1 : 0);
}

void Metrics::public_ip(const std::string& family, const std::string& address, bool changed,
                        WallTime when) {
  Impl& m = *impl_;
  m.public_ip.retain(
      [&](const Labels& l) { return l.at("family") != family || l.at("address") == address; });
  m.public_ip.get({{"family", family}, {"address", address}}).Set(1);
  if (changed) {
    m.ip_changes.get({{"family", family}}).Increment();
    m.ip_change_time.get({{"family", family}}).Set(to_unix_seconds(when));
  }
}

void Metrics::authoritative_serial(const std::string& zone, const std::string& nameserver,
                                   uint32_t serial) {
  impl_->serial.get({{"zone", zone}, {"nameserver", nameserver}}).Set(serial);
}

void Metrics::cycle_done(Duration duration, WallTime when) {
  impl_->cycle_duration.Set(std::chrono::duration<double>(duration).count());
  impl_->last_cycle.Set(to_unix_seconds(when));
}

std::string Metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, impl_->registry.Collect());
  return std::move(out).str();
}

}  // namespace ddnswatch::exporters
