#include "app/probe.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "config/validate.h"
#include "core/event_loop.h"
#include "monitor/monitor.h"
#include "resolvers/directory.h"
#include "resolvers/dns_engine.h"

namespace ddnswatch::app {

using monitor::Row;
using monitor::Verdict;
using resolvers::Outcome;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitMismatch = 1;
constexpr int kExitUsage = 2;

struct Labels {
  std::string display;
  std::string operator_name;
  std::string geo;
  std::string address;
};

/// Who each row's resolver is, from the sweep itself.
std::map<std::string, Labels> labels_of(const monitor::SweepResult& sweep) {
  std::map<std::string, Labels> out;
  for (const auto& [r, a] : sweep.answers) {
    out[r.spec.id] = {r.spec.id, r.operator_name, r.geo, r.spec.endpoint()};
  }
  for (const auto& a : sweep.authoritative) {
    std::string serial = a.serial ? fmt::format("serial {}", *a.serial) : "no serial";
    out[a.resolver] = {a.resolver, serial, "authoritative", a.address};
  }
  return out;
}

const resolvers::Answer* answer_of(const monitor::SweepResult& sweep, const std::string& id) {
  for (const auto& [r, a] : sweep.answers) {
    if (r.spec.id == id) return &a;
  }
  for (const auto& a : sweep.authoritative) {
    if (a.resolver == id) return &a.answer;
  }
  return nullptr;
}

double millis(std::chrono::microseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

std::string describe_answer(const resolvers::Answer& a) {
  switch (a.outcome) {
    case Outcome::kNoError: {
      std::vector<std::string> list;
      for (const auto& r : a.records) list.push_back(r.value);
      std::sort(list.begin(), list.end());
      return fmt::format("{}", fmt::join(list, ","));
    }
    case Outcome::kNoData:
      return "NODATA";
    case Outcome::kNxDomain:
      return "NXDOMAIN";
    case Outcome::kServFail:
      return "SERVFAIL";
    case Outcome::kRefused:
      return a.rcode == 5 ? "REFUSED" : fmt::format("REFUSED (rcode {})", a.rcode);
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kNetwork:
      return "network error: " + a.detail;
    case Outcome::kMalformed:
      return "malformed: " + a.detail;
  }
  return "?";
}

std::string format_probe_table(const ProbeReport& report) {
  const auto labels = labels_of(report.sweep);
  struct Line {
    std::string cells[7];
  };
  std::vector<Line> lines;
  lines.push_back({{"RESOLVER", "OPERATOR", "GEO", "ANSWER", "TTL", "VERDICT", "LATENCY"}});
  auto add = [&](const std::string& id, const std::string& verdict) {
    const resolvers::Answer* a = answer_of(report.sweep, id);
    const Labels& l = labels.at(id);
    lines.push_back({{l.display, l.operator_name, l.geo, a ? describe_answer(*a) : "",
                      a && !a->records.empty() ? std::to_string(monitor::min_ttl(*a)) : "", verdict,
                      a ? fmt::format("{:.1f} ms", millis(a->latency)) : ""}});
  };
  if (report.expected) {
    for (const Row& r : report.rows) add(r.resolver, to_string(r.verdict));
  } else {
    for (const auto& [r, a] : report.sweep.answers) add(r.spec.id, "?");
  }
  size_t width[7] = {};
  for (const Line& l : lines) {
    for (size_t i = 0; i < 7; ++i) width[i] = std::max(width[i], l.cells[i].size());
  }
  std::string out;
  for (const Line& l : lines) {
    std::string row;
    for (size_t i = 0; i < 7; ++i) {
      // TTL and latency are numbers: right-aligned.
      if (i == 4 || i == 6) {
        row += fmt::format("{:>{}}", l.cells[i], width[i]);
      } else {
        row += fmt::format("{:<{}}", l.cells[i], width[i]);
      }
      if (i < 6) row += "  ";
    }
    while (!row.empty() && row.back() == ' ') row.pop_back();
    out += row + "\n";
  }

  out += fmt::format("{} {}: ", report.name, report.qtype);
  if (!report.expected) {
    out += "expected answer unknown";
    if (!report.sweep.authoritative_error.empty()) {
      out += ": " + report.sweep.authoritative_error;
    } else {
      out += ": no authoritative server answered";
    }
    return out + "\n";
  }
  out +=
      fmt::format("expected {} ({})", monitor::to_string(*report.expected), report.expected_source);
  std::map<std::string, int> counts;
  for (const Row& r : report.rows) ++counts[to_string(r.verdict)];
  out += fmt::format("; {} of {} match", counts["match"], report.rows.size());
  for (Verdict v : monitor::kAllVerdicts) {
    if (v != Verdict::kMatch && counts[to_string(v)] > 0) {
      out += fmt::format(", {} {}", counts[to_string(v)], to_string(v));
    }
  }
  out += fmt::format("; propagation {:.0f}%", report.summary.propagation_ratio * 100);
  if (report.summary.eta > Duration::zero()) {
    out += fmt::format("; stale answers expire within {}s",
                       std::chrono::ceil<std::chrono::seconds>(report.summary.eta).count());
  }
  if (report.summary.split_brain) out += "; SPLIT-BRAIN";
  std::set<uint32_t> serials;
  for (const auto& a : report.sweep.authoritative) {
    if (a.serial) serials.insert(*a.serial);
  }
  if (serials.size() > 1) out += "; authoritative serials differ";
  return out + "\n";
}

std::string format_probe_json(const ProbeReport& report) {
  using nlohmann::json;
  const auto labels = labels_of(report.sweep);
  json doc = {{"name", report.name},
              {"qtype", report.qtype},
              {"expected_source", report.expected_source},
              {"expected", nullptr},
              {"zone", report.sweep.zone}};
  if (report.expected) {
    doc["expected"] = std::vector<std::string>(report.expected->begin(), report.expected->end());
  }
  json rows = json::array();
  auto add = [&](const std::string& id, const char* verdict) {
    const resolvers::Answer* a = answer_of(report.sweep, id);
    const Labels& l = labels.at(id);
    json row = {{"resolver", id},
                {"operator", l.operator_name},
                {"geo", l.geo},
                {"address", l.address},
                {"verdict", verdict},
                {"outcome", nullptr},
                {"answer", json::array()},
                {"ttl", nullptr},
                {"latency_ms", nullptr},
                {"cname_chain", json::array()}};
    if (a != nullptr) {
      row["outcome"] = to_string(a->outcome);
      for (const auto& r : a->records) row["answer"].push_back(r.value);
      if (!a->records.empty()) row["ttl"] = monitor::min_ttl(*a);
      row["latency_ms"] = millis(a->latency);
      row["rcode"] = a->rcode;
      row["aa"] = a->authoritative;
      row["cname_chain"] = a->cname_chain;
      if (!a->detail.empty()) row["detail"] = a->detail;
    }
    rows.push_back(std::move(row));
  };
  if (report.expected) {
    for (const Row& r : report.rows) add(r.resolver, to_string(r.verdict));
  } else {
    for (const auto& [r, a] : report.sweep.answers) add(r.spec.id, "unknown");
  }
  doc["resolvers"] = std::move(rows);
  json serials = json::object();
  for (const auto& a : report.sweep.authoritative) {
    if (a.serial) serials[a.resolver] = *a.serial;
  }
  doc["authoritative_serials"] = serials;
  doc["summary"] = {{"answer_groups", report.summary.answer_groups},
                    {"split_brain", report.summary.split_brain},
                    {"propagation_ratio", report.summary.propagation_ratio},
                    {"eta_seconds", std::chrono::duration<double>(report.summary.eta).count()},
                    {"all_match", report.expected.has_value() && report.summary.converged}};
  return doc.dump(2) + "\n";
}

int run_probe(const ProbeOptions& options, const config::Config& cfg,
              const resolvers::ResolverDirectory& directory) {
  const std::string name = config::strip_final_dot(options.name);
  if (!config::is_dns_name(name)) {
    fmt::print(stderr, "probe: \"{}\" is not a valid DNS name\n", options.name);
    return kExitUsage;
  }
  auto qtype = resolvers::parse_qtype(options.qtype);
  if (!qtype || (*qtype != resolvers::QType::kA && *qtype != resolvers::QType::kAAAA)) {
    fmt::print(stderr, "probe: --type must be A or AAAA, not \"{}\"\n", options.qtype);
    return kExitUsage;
  }
  for (const auto& e : options.expect) {
    const bool ok =
        *qtype == resolvers::QType::kA ? config::is_ipv4_address(e) : config::is_ipv6_address(e);
    if (!ok) {
      fmt::print(stderr, "probe: --expect: \"{}\" is not an {} address\n", e,
                 *qtype == resolvers::QType::kA ? "IPv4" : "IPv6");
      return kExitUsage;
    }
  }
  std::vector<std::string> names = options.resolvers;
  if (names.empty()) names = {"world"};
  auto selection = directory.select(names, /*allow_literals=*/true);
  if (!selection) {
    fmt::print(stderr, "probe: --resolvers: {}\n", selection.error().message);
    return kExitUsage;
  }
  const bool need_authoritative = selection->authoritative || options.expect.empty();
  auto bootstrap = directory.bootstrap(options.bootstrap.value_or(cfg.resolvers.bootstrap));
  if (!bootstrap) {
    if (options.bootstrap || need_authoritative) {
      fmt::print(stderr, "probe: --bootstrap: {}\n", bootstrap.error().message);
      return options.bootstrap ? kExitUsage : kExitMismatch;
    }
    bootstrap = resolvers::ResolverSpec{};  // never asked
    bootstrap->id = "bootstrap";
    bootstrap->address = "127.0.0.1";
  }

  auto loop = EventLoop::create();
  if (!loop) {
    fmt::print(stderr, "probe: {}\n", loop.error().message);
    return kExitMismatch;
  }
  SystemClock clock;
  ProbeReport report;
  report.name = name;
  report.qtype = resolvers::to_string(*qtype);
  {
    auto engine = resolvers::DnsEngine::create(**loop, clock);
    if (!engine) {
      fmt::print(stderr, "probe: {}\n", engine.error().message);
      return kExitMismatch;
    }
    monitor::Sweeper sweeper(**engine, clock, directory, *bootstrap,
                             options.authoritative_port.value_or(cfg.resolvers.authoritative_port));
    monitor::SweepRequest request;
    request.name = name;
    request.qtype = *qtype;
    request.resolvers = selection->resolvers;
    request.authoritative = need_authoritative;
    EventLoop* l = loop->get();
    sweeper.sweep(request, [&report, l](monitor::SweepResult result) {
      report.sweep = std::move(result);
      l->stop();
    });
    (*loop)->run();
  }

  if (!options.expect.empty()) {
    report.expected_source = "fixed";
    report.expected = monitor::AddressSet();
    for (const auto& e : options.expect) report.expected->insert(config::canonical_ip(e));
  } else {
    report.expected_source = "authoritative";
    report.expected = monitor::expected_from_authoritative(report.sweep);
  }
  if (report.expected) {
    monitor::Expectation e;
    e.current = *report.expected;
    e.known = true;
    report.rows = monitor::judge(report.sweep, e, selection->authoritative);
    report.summary = monitor::summarize(report.rows, clock.wall_now());
  }
  fmt::print("{}", options.json ? format_probe_json(report) : format_probe_table(report));
  return report.expected && report.summary.converged ? kExitOk : kExitMismatch;
}

}  // namespace ddnswatch::app
