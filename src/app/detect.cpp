#include "app/detect.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "core/event_loop.h"
#include "ipdetect/ip_detector.h"
#include "net/http_client.h"
#include "resolvers/dns_engine.h"

namespace ddnswatch::app {

using ipdetect::Detection;
using ipdetect::Family;
using ipdetect::SourceAnswer;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Beyond the sources' own timeout, how long the command waits before it gives up.
constexpr Duration kGrace = std::chrono::seconds(5);

std::string answer_text(const SourceAnswer& a) {
  if (a.address) return *a.address;
  if (a.skipped) return "skipped: " + a.error;
  return "error: " + a.error;
}

double millis(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

std::string format_detect_table(const std::vector<Detection>& detections) {
  std::vector<std::array<std::string, 4>> lines;
  lines.push_back({"SOURCE", "FAMILY", "TIME", "ANSWER"});
  for (const Detection& d : detections) {
    for (const SourceAnswer& a : d.answers) {
      lines.push_back({a.source, ipdetect::to_string(d.family),
                       a.skipped ? "-" : fmt::format("{:.0f} ms", millis(a.elapsed)),
                       answer_text(a)});
    }
  }
  size_t width[4] = {};
  for (const auto& l : lines) {
    for (size_t i = 0; i < 4; ++i) width[i] = std::max(width[i], l[i].size());
  }
  std::string out;
  for (const auto& l : lines) {
    // TIME is a number: right-aligned; ANSWER is last and not padded.
    std::string row = fmt::format("{:<{}}  {:<{}}  {:>{}}  {}", l[0], width[0], l[1], width[1],
                                  l[2], width[2], l[3]);
    while (!row.empty() && row.back() == ' ') row.pop_back();
    out += row + "\n";
  }
  for (const Detection& d : detections) out += d.verdict + "\n";
  return out;
}

std::string format_detect_json(const std::vector<Detection>& detections) {
  using nlohmann::json;
  json families = json::array();
  bool all = !detections.empty();
  for (const Detection& d : detections) {
    json sources = json::array();
    for (const SourceAnswer& a : d.answers) {
      sources.push_back({{"source", a.source},
                         {"address", a.address ? json(*a.address) : json(nullptr)},
                         {"error", a.address ? json(nullptr) : json(a.error)},
                         {"skipped", a.skipped},
                         {"elapsed_ms", a.skipped ? json(nullptr) : json(millis(a.elapsed))}});
    }
    families.push_back({{"family", ipdetect::to_string(d.family)},
                        {"address", d.address ? json(*d.address) : json(nullptr)},
                        {"agreeing", d.agreeing},
                        {"answered", d.answered},
                        {"quorum", d.quorum},
                        {"verdict", d.verdict},
                        {"sources", std::move(sources)}});
    all = all && d.address.has_value();
  }
  json doc = {{"families", std::move(families)}, {"all_trusted", all}};
  return doc.dump(2) + "\n";
}

int run_detect(const DetectOptions& options, const config::Config& cfg) {
  std::vector<Family> families;
  if (options.family) {
    if (*options.family != "ipv4" && *options.family != "ipv6") {
      fmt::print(stderr, "detect: --family must be ipv4 or ipv6, not \"{}\"\n", *options.family);
      return kExitUsage;
    }
    const bool v4 = *options.family == "ipv4";
    if (!(v4 ? cfg.detect.ipv4 : cfg.detect.ipv6)) {
      fmt::print(stderr, "detect: {} has no detect.{} sources\n", cfg.source.string(),
                 *options.family);
      return kExitUsage;
    }
    families.push_back(v4 ? Family::kIpv4 : Family::kIpv6);
  } else {
    if (cfg.detect.ipv4) families.push_back(Family::kIpv4);
    if (cfg.detect.ipv6) families.push_back(Family::kIpv6);
  }
  if (families.empty()) {
    fmt::print(stderr, "detect: {} has neither detect.ipv4 nor detect.ipv6 sources\n",
               cfg.source.string());
    return kExitFailure;
  }

  auto loop = EventLoop::create();
  if (!loop) {
    fmt::print(stderr, "detect: {}\n", loop.error().message);
    return kExitFailure;
  }
  SystemClock clock;
  std::vector<Detection> detections(families.size());
  size_t left = families.size();
  bool timed_out = false;
  {
    auto http = net::HttpClient::create(**loop);
    if (!http) {
      fmt::print(stderr, "detect: {}\n", http.error().message);
      return kExitFailure;
    }
    auto engine = resolvers::DnsEngine::create(**loop, clock);
    if (!engine) {
      fmt::print(stderr, "detect: {}\n", engine.error().message);
      return kExitFailure;
    }
    EventLoop* l = loop->get();
    auto guard = l->make_timer([&] {
      timed_out = true;
      l->stop();
    });
    guard->start(cfg.detect.timeout + kGrace);
    {
      ipdetect::IpDetector detector(*l, **http, **engine, clock);
      detector.configure(cfg.detect);
      for (size_t i = 0; i < families.size(); ++i) {
        detector.detect(families[i], [&, i](Detection d) {
          detections[i] = std::move(d);
          if (--left == 0) l->stop();
        });
      }
      l->run();
    }
    guard.reset();
  }
  if (timed_out) {
    fmt::print(stderr, "detect: no result within {} s\n",
               std::chrono::ceil<std::chrono::seconds>(cfg.detect.timeout + kGrace).count());
    return kExitFailure;
  }
  fmt::print("{}", options.json ? format_detect_json(detections) : format_detect_table(detections));
  const bool all = std::all_of(detections.begin(), detections.end(),
                               [](const Detection& d) { return d.address.has_value(); });
  return all ? kExitOk : kExitFailure;
}

}  // namespace ddnswatch::app
