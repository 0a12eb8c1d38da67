// `ddnswatch probe NAME`: one sweep of one name across resolvers, judged like the monitor
// judges it, printed as a table (or JSON) — a whatsmydns in the shell.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "monitor/analyzer.h"
#include "monitor/sweep.h"
#include "resolvers/directory.h"

namespace ddnswatch::app {

struct ProbeOptions {
  std::string name;
  std::string qtype = "A";
  std::vector<std::string> resolvers;  // set names, ids, "authoritative", "ADDRESS[:PORT]"
  std::vector<std::string> expect;     // empty: what the authoritative servers answer
  bool json = false;
  std::optional<std::string> bootstrap;  // overrides the config's resolvers.bootstrap
  std::optional<uint16_t> authoritative_port;
};

/// The judged sweep, as both outputs render it.
struct ProbeReport {
  std::string name;
  std::string qtype;
  std::string expected_source;  // "fixed" or "authoritative"
  std::optional<monitor::AddressSet> expected;
  monitor::SweepResult sweep;
  std::vector<monitor::Row> rows;
  monitor::NameSummary summary;
};

/// One DNS answer as the commands print it: the sorted addresses, or the outcome
/// ("NXDOMAIN", "timeout", "network error: ...").
std::string describe_answer(const resolvers::Answer& answer);

std::string format_probe_table(const ProbeReport& report);
std::string format_probe_json(const ProbeReport& report);

/// Runs the probe; returns the exit code: 0 every resolver matches, 1 any does not (or the
/// expected answer could not be found), 2 usage errors. Prints errors to stderr.
int run_probe(const ProbeOptions& options, const config::Config& config,
              const resolvers::ResolverDirectory& directory);

}  // namespace ddnswatch::app
