// `ddnswatch once`: one full cycle by hand (or from cron) — detect the public addresses, bring
// every record in line at its provider (read first, write only when it differs), then verify
// that the zone's authoritative servers answer the new record — with a report and an exit
// code that says how far it got.
#pragma once

#include <string>

#include "config/config.h"
#include "resolvers/directory.h"

namespace ddnswatch::app {

struct OnceOptions {
  bool json = false;
  bool verify = true;
  Duration verify_timeout = std::chrono::seconds(30);
};

/// Exit codes of `once`.
enum OnceExit : int {
  kOnceOk = 0,           // every record holds the address and every authoritative server says so
  kOnceFailed = 1,       // no trusted address, or a record could not be updated
  kOnceUsage = 2,        // command line or config unusable
  kOnceNotVerified = 3,  // records are right at the provider, but not yet at every server
};

/// Runs the cycle and prints the report. curl and c-ares must be initialised. The state file
/// is neither read nor written: a running daemon keeps its own.
int run_once(const OnceOptions& options, const config::Config& config,
             const resolvers::ResolverDirectory& directory);

}  // namespace ddnswatch::app
