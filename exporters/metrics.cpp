#include "exporters/metrics.h"

#include <prometheus/client_metric.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace ddnswatch::exporters {
namespace {

using prometheus::Counter;
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

// The text exposition format 0.0.4 is written here, straight from the series, rather than by
// prometheus-cpp's Registry::Collect and TextSerializer: those copy every series with its
// labels into MetricFamily structures and then write them through an std::ostream one field
// at a time, which took 200-300 ms for a scrape of 50,000 series (bench/README.md, row 4).
// prometheus-cpp still keeps the values: atomic gauges and counters, and histograms.

/// A sample value: whole numbers (counts, Unix seconds) as integers, any other number as the
/// shortest text that reads back as the same double, and NaN, +Inf, -Inf as Prometheus
/// spells them.
void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  const std::to_chars_result r =
      v == std::trunc(v) && std::fabs(v) < 1e15
          ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
          : std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_count(std::string& out, uint64_t n) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, n).ptr);
}

/// A label value (inside double quotes) or a HELP text, escaped as the format asks: a
/// backslash, a line feed and (in a label value) a double quote.
void append_escaped(std::string& out, std::string_view text, bool label_value) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && label_value) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

/// `a="x",b="y"`: the labels as they stand between the braces, in the order of their names.
/// It is also the key of a series in its family: one string per series, nothing else kept.
std::string label_text(const Labels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!out.empty()) out += ',';
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  }
  return out;
}

/// The labels back from label_text's output (which is the only text it is given).
Labels parse_label_text(std::string_view text) {
  Labels labels;
  size_t at = 0;
  while (at < text.size()) {
    const size_t eq = text.find("=\"", at);
    std::string name(text.substr(at, eq - at));
    std::string value;
    at = eq + 2;
    for (; at < text.size() && text[at] != '"'; ++at) {
      if (text[at] == '\\' && at + 1 < text.size()) {
        ++at;
        value += text[at] == 'n' ? '\n' : text[at];
      } else {
        value += text[at];
      }
    }
    labels.emplace(std::move(name), std::move(value));
    at += 2;  // the closing quote and the comma
  }
  return labels;
}

/// A metric family: its name, HELP and TYPE, and how it writes its series.
class Family {
 public:
  /// Adds itself to `order`, the families in the order in which the scrape shows them.
  Family(std::vector<const Family*>& order, std::string name, std::string_view help,
         std::string_view type)
      : name_(std::move(name)) {
    header_ = "# HELP " + name_ + " ";
    append_escaped(header_, help, false);
    header_ += "\n# TYPE " + name_ + " ";
    header_ += type;
    header_ += '\n';
    order.push_back(this);
  }
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  /// Appends the header and every series; nothing while the family has no series.
  virtual void render(std::string& out) const = 0;

 protected:
  std::string name_;
  std::string header_;
};

/// The series of one family keyed by their label text, so that a reload can remove exactly
/// the series whose labels left the config. A series costs its key and its value: at 160,000
/// series (20,000 name-resolver pairs) that is what the daemon's memory is made of. Guarded
/// by Metrics::Impl::mu.
template <typename T>
class Series final : public Family {
 public:
  Series(std::vector<const Family*>& order, std::string name, std::string_view help)
      : Family(order, std::move(name), help, kType) {}

  template <typename... Args>
  T& get(const Labels& labels, Args&&... args) {
    std::string key = label_text(labels);
    auto it = children_.find(key);
    if (it == children_.end()) {
      it = children_
               .emplace(std::piecewise_construct, std::forward_as_tuple(std::move(key)),
                        std::forward_as_tuple(std::forward<Args>(args)...))
               .first;
    }
    return it->second;
  }

  /// Removes every series for which `keep` (given the series' labels) is false.
  template <typename Keep>
  void retain(Keep keep) {
    retain_from(children_.begin(), "", keep);
  }

  /// As retain, among the series whose labels begin with `prefix` (in the order of the label
  /// names) only. Their keys begin with the prefix's text, so they are next to each other in
  /// the map and the others are not visited: a name's check costs its own series, not every
  /// name's.
  template <typename Keep>
  void retain_prefixed(const Labels& prefix, Keep keep) {
    const std::string text = label_text(prefix);
    retain_from(children_.lower_bound(text), text, keep);
  }

  void render(std::string& out) const override {
    if (children_.empty()) return;
    out += header_;
    for (const auto& [labels, metric] : children_) {
      if constexpr (kHistogram) {
        render_histogram(out, labels, metric.Collect().histogram);
      } else {
        append_head(out, "", labels);
        append_value(out, metric.Value());
        out += '\n';
      }
    }
  }

 private:
  static constexpr bool kHistogram = std::is_same_v<T, Histogram>;
  static constexpr std::string_view kType = kHistogram                   ? "histogram"
                                            : std::is_same_v<T, Counter> ? "counter"
                                                                         : "gauge";

  /// A sample line up to its value: `name_suffix{labels} `, without braces when no labels.
  void append_head(std::string& out, std::string_view suffix, const std::string& labels) const {
    out += name_;
    out += suffix;
    if (!labels.empty()) {
      out += '{';
      out += labels;
      out += '}';
    }
    out += ' ';
  }

  void render_histogram(std::string& out, const std::string& labels,
                        const prometheus::ClientMetric::Histogram& h) const {
    for (const auto& bucket : h.bucket) {
      out += name_;
      out += "_bucket{";
      if (!labels.empty()) {
        out += labels;
        out += ',';
      }
      out += "le=\"";
      append_value(out, bucket.upper_bound);
      out += "\"} ";
      append_count(out, bucket.cumulative_count);
      out += '\n';
    }
    append_head(out, "_sum", labels);
    append_value(out, h.sample_sum);
    out += '\n';
    append_head(out, "_count", labels);
    append_count(out, h.sample_count);
    out += '\n';
  }

  /// From `it` on, while the key begins with `prefix`: a value's closing quote ends every
  /// label in the text, so a prefix that ends in one matches those labels exactly.
  template <typename Keep>
  void retain_from(typename std::map<std::string, T>::iterator it, std::string_view prefix,
                   Keep keep) {
    while (it != children_.end() && std::string_view(it->first).starts_with(prefix)) {
      it = keep(parse_label_text(it->first)) ? std::next(it) : children_.erase(it);
    }
  }

  std::map<std::string, T> children_;
};

Histogram::BucketBoundaries latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace

struct Metrics::Impl {
  /// Guards every series map: the observers run on the loop thread, render() on the HTTP
  /// server's. The values themselves are atomic (prometheus-cpp), the maps are not.
  mutable std::mutex mu;
  /// The size of the last scrape, to reserve the next one at once.
  mutable size_t last_size = 0;
  std::vector<const Family*> order;

  Series<Gauge> build_info{order, "ddnswatch_build_info",
                           "Build information of the running ddnswatch; the value is always 1."};
  Series<Gauge> reload_successful{
      order, "ddnswatch_config_last_reload_successful",
      "Whether the last attempt to load the configuration succeeded (1) or was rejected (0)."};
  Series<Gauge> reload_success_timestamp{order,
                                         "ddnswatch_config_last_reload_success_timestamp_seconds",
                                         "Unix time of the last successful configuration load."};
  Series<Counter> state_write_errors{
      order, "ddnswatch_state_write_errors_total",
      "Attempts to save the state file in state_dir that failed (folder full, read-only, missing); "
      "the previous file stays in place."};
  Series<Gauge> state_write_successful{
      order, "ddnswatch_state_last_write_successful",
      "Whether the last attempt to save the state file succeeded (1) or failed (0)."};
  Series<Gauge> state_write_success_timestamp{
      order, "ddnswatch_state_last_write_success_timestamp_seconds",
      "Unix time of the last successful save of the state file."};
  Series<Gauge> resolver_info{
      order, "ddnswatch_resolver_info",
      "A configured or discovered resolver with its address, operator, geography and "
      "protocol; the value is always 1."};
  Series<Histogram> query_duration{
      order, "ddnswatch_dns_query_duration_seconds",
      "Round-trip time of DNS queries per resolver, retries included."};
  Series<Counter> queries{
      order, "ddnswatch_dns_queries_total",
      "DNS queries per resolver by outcome: noerror, nodata, nxdomain, servfail, refused, "
      "timeout, network, malformed."};
  Series<Gauge> state{order, "ddnswatch_dns_answer_state",
                      "1 for the current verdict on a resolver's answer for a name (match, stale, "
                      "foreign, empty, nxdomain, error), 0 for the others."};
  Series<Gauge> ttl{order, "ddnswatch_dns_answer_ttl_seconds",
                    "TTL of the address records a resolver returned for a name."};
  Series<Gauge> groups{
      order, "ddnswatch_dns_answer_groups",
      "Distinct answers (address sets, NXDOMAIN) among the resolvers that answered."};
  Series<Gauge> split{order, "ddnswatch_split_brain",
                      "1 when a resolver answers a foreign address or answering resolvers disagree "
                      "beyond stale caches."};
  Series<Gauge> ratio{order, "ddnswatch_propagation_ratio",
                      "Share of the answering resolvers that return the expected answer."};
  Series<Gauge> lag{
      order, "ddnswatch_propagation_lag_seconds",
      "Time from the last change of the expected answer to this resolver's first match "
      "(the time so far while it does not match)."};
  Series<Gauge> eta{order, "ddnswatch_propagation_eta_seconds",
                    "Time until the last stale answer's TTL runs out; 0 when none is stale."};
  Series<Gauge> change{order, "ddnswatch_expected_change_timestamp_seconds",
                       "Unix time when the expected answer of a name last changed."};
  Series<Gauge> serial{order, "ddnswatch_authoritative_serial",
                       "SOA serial of the zone seen at each authoritative server."};
  Series<Gauge> cycle_duration_series{
      order, "ddnswatch_monitor_cycle_duration_seconds",
      "Duration of the last check of a watched name (all its queries)."};
  Series<Gauge> last_cycle_series{order, "ddnswatch_monitor_last_cycle_timestamp_seconds",
                                  "Unix time of the last completed check of a watched name."};
  Series<Counter> notifications{
      order, "ddnswatch_notifications_total",
      "Notification messages per sink (a webhook's name, or alertmanager) by outcome: "
      "delivered, failed (refused, or out of attempts), dropped (queue full, or the sink "
      "was removed)."};
  Series<Counter> notification_retries{
      order, "ddnswatch_notification_retries_total",
      "Delivery attempts that failed and were scheduled again, per sink."};
  Series<Gauge> notification_queue{order, "ddnswatch_notification_queue_length",
                                   "Messages waiting for delivery (or in flight) per sink."};
  Series<Gauge> public_ip{order, "ddnswatch_public_ip_info",
                          "The trusted public address of a family; the value is always 1."};
  Series<Counter> ip_changes{
      order, "ddnswatch_public_ip_changes_total",
      "Changes of the trusted public address per family (a restart is not a change)."};
  Series<Gauge> ip_change_time{
      order, "ddnswatch_public_ip_last_change_timestamp_seconds",
      "Unix time when the trusted public address of a family last changed."};
  Series<Gauge> ip_source_up{
      order, "ddnswatch_ip_source_up",
      "1 if the IP source's last answer was a valid public address of the family, else "
      "0."};
  Series<Gauge> ip_agreeing{
      order, "ddnswatch_ip_sources_agreeing",
      "IP sources that agree with the chosen address (0 when no address was trusted)."};
  Series<Counter> record_updates{
      order, "ddnswatch_record_updates_total",
      "Reconciliations of a record with its provider by outcome: updated, unchanged, "
      "failed, rate_limited, rejected."};
  Series<Gauge> record_in_sync{order, "ddnswatch_record_in_sync",
                               "1 if the provider holds the record's desired addresses, else 0."};
  Series<Gauge> record_update_time{order, "ddnswatch_record_last_update_timestamp_seconds",
                                   "Unix time of the last write of a record at its provider."};
  Series<Histogram> provider_duration{
      order, "ddnswatch_provider_request_duration_seconds",
      "Duration of a record's reconciliation with its provider (read and write)."};
  Gauge& cycle_duration = cycle_duration_series.get({});
  Gauge& last_cycle = last_cycle_series.get({});

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
  // prometheus-cpp 1.0 has no Info type: a gauge fixed at 1 carries the labels.
  impl_->build_info.get({{"version", build.version}, {"revision", build.revision}}).Set(1);
  // Present from the start: 0 until the first load or save says otherwise.
  impl_->reload_successful.get({});
  impl_->reload_success_timestamp.get({});
  impl_->state_write_errors.get({});
  impl_->state_write_successful.get({});
  impl_->state_write_success_timestamp.get({});
}

Metrics::~Metrics() = default;

void Metrics::config_loaded(bool ok, WallTime when) {
  const std::lock_guard lock(impl_->mu);
  impl_->reload_successful.get({}).Set(ok ? 1 : 0);
  if (ok) impl_->reload_success_timestamp.get({}).Set(to_unix_seconds(when));
}

void Metrics::state_saved(bool ok, WallTime when) {
  const std::lock_guard lock(impl_->mu);
  impl_->state_write_successful.get({}).Set(ok ? 1 : 0);
  if (ok) {
    impl_->state_write_success_timestamp.get({}).Set(to_unix_seconds(when));
  } else {
    impl_->state_write_errors.get({}).Increment();
  }
}

void Metrics::dns_query_done(const std::string& resolver, const char* outcome,
                             std::chrono::microseconds latency) {
  const std::lock_guard lock(impl_->mu);
  impl_->queries.get({{"resolver", resolver}, {"outcome", outcome}}).Increment();
  impl_->query_duration.get({{"resolver", resolver}}, latency_buckets())
      .Observe(std::chrono::duration<double>(latency).count());
}

void Metrics::monitor_configured(const std::vector<ResolverInfo>& resolvers,
                                 const std::vector<WatchedName>& names) {
  const std::lock_guard lock(impl_->mu);
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
  const std::lock_guard lock(impl_->mu);
  // An address change replaces the server's info series rather than adding a second one.
  impl_->resolver_info.retain([&](const Labels& l) {
    return l.at("resolver") != resolver.id || l.at("address") == resolver.address;
  });
  impl_->add_resolver(resolver);
}

void Metrics::resolver_removed(const std::string& id) {
  const std::lock_guard lock(impl_->mu);
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
  const std::lock_guard lock(impl_->mu);
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
  const std::lock_guard lock(impl_->mu);
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
  const std::lock_guard lock(impl_->mu);
  impl_->notifications.get({{"sink", sink}, {"outcome", outcome}}).Increment();
}

void Metrics::notification_retried(const std::string& sink) {
  const std::lock_guard lock(impl_->mu);
  impl_->notification_retries.get({{"sink", sink}}).Increment();
}

void Metrics::notification_queue(const std::string& sink, size_t length) {
  const std::lock_guard lock(impl_->mu);
  impl_->notification_queue.get({{"sink", sink}}).Set(static_cast<double>(length));
}

void Metrics::ip_sources_configured(const std::string& family,
                                    const std::vector<std::string>& sources) {
  const std::lock_guard lock(impl_->mu);
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
  const std::lock_guard lock(impl_->mu);
  impl_->ip_source_up.get({{"source", source}, {"family", family}}).Set(up ? 1 : 0);
}

void Metrics::ip_sources_agreeing(const std::string& family, int agreeing) {
  const std::lock_guard lock(impl_->mu);
  impl_->ip_agreeing.get({{"family", family}}).Set(agreeing);
}

void Metrics::records_configured(const std::vector<RecordInfo>& records) {
  const std::lock_guard lock(impl_->mu);
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
  const std::lock_guard lock(impl_->mu);
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
  const std::lock_guard lock(impl_->mu);
  impl_->record_in_sync.get({{"record", record}}).Set(in_sync ? 1 : 0);
}

void Metrics::public_ip(const std::string& family, const std::string& address, bool changed,
                        WallTime when) {
  const std::lock_guard lock(impl_->mu);
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
  const std::lock_guard lock(impl_->mu);
  impl_->serial.get({{"zone", zone}, {"nameserver", nameserver}}).Set(serial);
}

void Metrics::cycle_done(Duration duration, WallTime when) {
  const std::lock_guard lock(impl_->mu);
  impl_->cycle_duration.Set(std::chrono::duration<double>(duration).count());
  impl_->last_cycle.Set(to_unix_seconds(when));
}

std::string Metrics::render() const {
  const std::lock_guard lock(impl_->mu);
  std::string out;
  out.reserve(impl_->last_size + impl_->last_size / 8);
  for (const Family* family : impl_->order) family->render(out);
  impl_->last_size = out.size();
  return out;
}

}  // namespace ddnswatch::exporters
