#include "app/once.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "app/detect.h"
#include "app/probe.h"
#include "core/event_loop.h"
#include "ipdetect/ip_detector.h"
#include "monitor/sweep.h"
#include "net/http_client.h"
#include "providers/provider.h"
#include "resolvers/dns_engine.h"
#include "updater/updater.h"

namespace ddnswatch::app {

using nlohmann::json;

namespace {

/// One record's line of the report.
struct RecordLine {
  json status;  // the updater's record entry (state, held, last_outcome, message, ...)
  std::map<std::string, std::string> servers;  // authoritative server -> "match" or the answer
  std::string verify_error;
  bool verified = false;
};

}  // namespace

int run_once(const OnceOptions& options, const config::Config& cfg,
             const resolvers::ResolverDirectory& directory) {
  if (cfg.records.empty()) {
    fmt::print(stderr, "once: {} has no records to update\n", cfg.source.string());
    return kOnceUsage;
  }
  auto loop = EventLoop::create();
  if (!loop) {
    fmt::print(stderr, "once: {}\n", loop.error().message);
    return kOnceFailed;
  }
  EventLoop* l = loop->get();
  SystemClock clock;
  std::vector<ipdetect::Detection> detections;
  std::vector<RecordLine> lines;
  bool timed_out = false;
  {
    auto http = net::HttpClient::create(*l);
    if (!http) {
      fmt::print(stderr, "once: {}\n", http.error().message);
      return kOnceFailed;
    }
    auto engine = resolvers::DnsEngine::create(*l, clock);
    if (!engine) {
      fmt::print(stderr, "once: {}\n", engine.error().message);
      return kOnceFailed;
    }
    // Every step is bounded: detection, the providers' requests, the verification.
    auto guard = l->make_timer([&] {
      timed_out = true;
      l->stop();
    });
    guard->start(cfg.detect.timeout + std::chrono::minutes(2) + options.verify_timeout);

    ipdetect::IpDetector detector(*l, **http, **engine, clock);
    detector.configure(cfg.detect);
    updater::Updater updater(*l, clock,
                             [&](const config::ProviderConfig& pc) {
                               return providers::make_provider(pc, {*l, **http, clock});
                             },
                             nullptr, {}, {}, {});
    updater.configure(cfg);

    // 1. Detect each family that some record needs.
    std::vector<ipdetect::Family> families;
    for (const auto& r : cfg.records) {
      auto f = r.type == config::RecordType::kA ? ipdetect::Family::kIpv4 : ipdetect::Family::kIpv6;
      if (std::find(families.begin(), families.end(), f) == families.end()) families.push_back(f);
    }
    detections.resize(families.size());
    size_t left = families.size();
    for (size_t i = 0; i < families.size(); ++i) {
      detector.detect(families[i], [&, i](ipdetect::Detection d) {
        detections[i] = std::move(d);
        if (--left == 0) l->stop();
      });
    }
    l->run();
    for (const auto& d : detections) {
      if (!d.address) continue;
      updater.set_address(
          d.family == ipdetect::Family::kIpv4 ? config::RecordType::kA : config::RecordType::kAAAA,
          *d.address);
    }

    // 2. Reconcile every record that has an address, now.
    if (!timed_out) {
      updater.reconcile_all([l] { l->stop(); });
      l->run();
    }
    json records = json::parse(updater.status_json(), nullptr, false);
    if (records.is_array()) {
      for (auto& r : records) lines.push_back({r, {}, "", false});
    }

    // 3. Verify at the zone's authoritative servers, again and again until they all answer
    //    the new addresses or the time is up.
    auto bootstrap = directory.bootstrap(cfg.resolvers.bootstrap);
    if (options.verify && !timed_out && bootstrap) {
      monitor::Sweeper sweeper(**engine, clock, directory, *bootstrap,
                               cfg.resolvers.authoritative_port);
      const auto deadline = clock.steady_now() + options.verify_timeout;
      for (auto& line : lines) {
        if (!line.status["in_sync"].get<bool>()) continue;
        std::set<std::string> want;
        for (const auto& a : line.status["held"]) want.insert(a.get<std::string>());
        monitor::SweepRequest rq;
        rq.name = line.status["name"];
        rq.qtype = line.status["type"] == "A" ? resolvers::QType::kA : resolvers::QType::kAAAA;
        rq.authoritative = true;
        while (!timed_out) {
          monitor::SweepResult result;
          sweeper.sweep(rq, [&](monitor::SweepResult r) {
            result = std::move(r);
            l->stop();
          });
          l->run();
          line.servers.clear();
          bool all = !result.authoritative.empty();
          for (const auto& a : result.authoritative) {
            std::set<std::string> got;
            for (const auto& rec : a.answer.records) got.insert(rec.value);
            const bool match = got == want && a.answer.authoritative;
            line.servers[a.resolver.substr(0, 5) == "auth:" ? a.resolver.substr(5) : a.resolver] =
                match ? "match" : describe_answer(a.answer);
            all = all && match;
          }
          line.verify_error = result.authoritative.empty() ? result.authoritative_error : "";
          if (all) {
            line.verified = true;
            break;
          }
          if (clock.steady_now() + std::chrono::seconds(1) > deadline) break;
          auto pause = l->make_timer([l] { l->stop(); });
          pause->start(std::chrono::seconds(1));
          l->run();
        }
      }
    } else if (options.verify && !bootstrap) {
      for (auto& line : lines) line.verify_error = bootstrap.error().message;
    }
  }

  // The report.
  bool failed = timed_out;
  bool unverified = false;
  for (const auto& d : detections) failed = failed || !d.address;
  for (const auto& line : lines) {
    const std::string state = line.status.value("state", "");
    if (state != "in_sync") failed = true;
    if (options.verify && !line.verified) unverified = true;
  }
  if (options.json) {
    json out = {{"detections", json::parse(format_detect_json(detections), nullptr, false)},
                {"records", json::array()},
                {"timed_out", timed_out}};
    for (const auto& line : lines) {
      json r = line.status;
      r["authoritative"] = line.servers;
      r["verified"] = line.verified;
      if (!line.verify_error.empty()) r["verify_error"] = line.verify_error;
      out["records"].push_back(std::move(r));
    }
    fmt::print("{}\n", out.dump(2));
  } else {
    fmt::print("{}", format_detect_table(detections));
    fmt::print("\n{:<32} {:<9} {:<10} {:<24} {}\n", "RECORD", "PROVIDER", "OUTCOME", "HOLDS",
               "AUTHORITATIVE SERVERS");
    for (const auto& line : lines) {
      const json& s = line.status;
      std::string holds =
          s["held"].is_array() ? fmt::format("{}", fmt::join(s["held"], ",")) : std::string("-");
      holds.erase(std::remove(holds.begin(), holds.end(), '"'), holds.end());
      std::string servers;
      for (const auto& [server, verdict] : line.servers) {
        servers += (servers.empty() ? "" : ", ") + server + " " + verdict;
      }
      if (!line.verify_error.empty()) servers = line.verify_error;
      if (!options.verify) servers = "(not verified)";
      fmt::print("{:<32} {:<9} {:<10} {:<24} {}\n", s.value("record", ""), s.value("provider", ""),
                 s["last_outcome"].is_string() ? s["last_outcome"].get<std::string>() : "-", holds,
                 servers);
      if (!s.value("message", "").empty() && s.value("state", "") != "in_sync") {
        fmt::print("  {}\n", s.value("message", ""));
      }
    }
    fmt::print("\n{}\n", timed_out ? "once: timed out"
                         : failed  ? "once: failed"
                         : unverified
                             ? "once: records updated; not every authoritative server answers "
                               "them yet"
                             : "once: every record is up to date and served");
  }
  if (failed) return kOnceFailed;
  return unverified ? kOnceNotVerified : kOnceOk;
}

}  // namespace ddnswatch::app
