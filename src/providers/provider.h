// The seam between the updater and a DNS provider: one interface, one implementation file per
// provider (rfc2136.cpp, powerdns.cpp, cloudflare.cpp, ...). A provider reads the record as the
// provider holds it, writes only when it differs from what is wanted, and reports the outcome
// in terms the updater's decision and the metrics understand. Providers never delete a record
// because nothing is wanted: the updater never asks them to.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/result.h"

namespace ddnswatch::net {
class HttpClient;
}

namespace ddnswatch::providers {

/// How one reconciliation ended (the `outcome` label of ddnswatch_record_updates_total).
enum class Outcome {
  kUpdated,      // the provider held something else; it now holds the wanted addresses
  kUnchanged,    // it already held them: nothing was written
  kFailed,       // could not complete (network, timeout, 5xx, SERVFAIL, dnserr/911): retry later
  kRateLimited,  // the provider asked us to slow down (429, a throttling code): retry after
  kRejected,     // the provider refused (bad credentials, no such zone, NOTAUTH, badauth):
                 // retrying will not help until the config changes
};
const char* to_string(Outcome outcome);

struct Reconciliation {
  Outcome outcome = Outcome::kFailed;
  /// For people, in plain words, never a secret: "TSIG BADTIME: the server's clock is 612 s
  /// ahead of ours (fudge 300 s); fix the clock", "HTTP 403: token lacks Zone.DNS.Edit".
  std::string message;
  /// The addresses the provider held before (empty: the record did not exist).
  std::vector<std::string> before;
  /// The provider told us when to come back (Retry-After, a documented block time).
  std::optional<Duration> retry_after;
  /// Our clock's offset from the provider's (their time minus ours), when it could be measured
  /// (HTTP Date header, TSIG time signed); set whenever the provider reports skew.
  std::optional<Duration> clock_skew;
  /// The provider answers for the name with addresses of its own (Cloudflare's proxy): DNS
  /// answers cannot show the record, only the provider's API can.
  bool proxied = false;
};

Reconciliation make_reconciliation(Outcome outcome, std::string message,
                                   std::vector<std::string> before = {});

/// What the updater asks for: the record as the config names it, and the full set of
/// addresses it must hold (one family; never empty).
struct Desired {
  std::string name;  // fully qualified, no final dot
  config::RecordType type = config::RecordType::kA;
  std::vector<std::string> addresses;  // canonical text, sorted
  std::optional<int> ttl;              // unset: keep the provider's (or its default on create)
  /// What the provider held at the last successful reconcile, as the updater remembers it
  /// (state file). Only providers without a read call (DynDNS2) rely on it.
  std::optional<std::vector<std::string>> held;
};

/// What a provider may use. All on the loop thread.
struct ProviderContext {
  EventLoop& loop;
  net::HttpClient& http;
  const Clock& clock;
  /// The longest an HTTP provider's request may take, transfer included (tests shorten it).
  Duration http_timeout = std::chrono::seconds(20);
};

/// Loop thread only. A provider may keep state between calls (a zone id, a record id) but must
/// still read before writing each time: the record may have been edited by hand.
class Provider {
 public:
  using Done = std::function<void(Reconciliation)>;
  virtual ~Provider() = default;
  virtual std::string kind() const = 0;
  /// Reads the record and writes `desired` only when it differs. `done` runs exactly once,
  /// later, on the loop thread (never inside reconcile()). Destroying the provider cancels
  /// what is in flight without calling `done`.
  virtual void reconcile(const Desired& desired, Done done) = 0;
};

/// The TTL an added record gets when neither the config nor the server's RRset has one.
inline constexpr uint32_t kDefaultTtl = 300;

/// The RRset as the server holds it: addresses in canonical text, sorted, no duplicates.
struct RrsetState {
  std::vector<std::string> addresses;  // empty: the RRset does not exist
  std::optional<uint32_t> ttl;         // set when it exists
};

struct UpdatePlan {
  bool write = false;
  uint32_t ttl = kDefaultTtl;  // the TTL to write with
};

/// Compares what the server holds with what is wanted (canonical, sorted, non-empty): write
/// when the address sets differ or a wanted TTL differs from the server's. The TTL written is
/// the wanted one, else the server's, else kDefaultTtl.
UpdatePlan plan_update(const RrsetState& current, const std::vector<std::string>& wanted,
                       std::optional<int> wanted_ttl);

/// AF_INET for A, AF_INET6 for AAAA.
int address_family(config::RecordType type);
/// inet_ntop of a raw address of family `af` ("" if it fails).
std::string address_text(int af, const void* raw);

/// The addresses of `type`'s family among `addresses`, in canonical text (inet_ntop), sorted,
/// without duplicates. Anything else (the other family, not an address) is left out.
std::vector<std::string> canonical_addresses(const std::vector<std::string>& addresses,
                                             config::RecordType type);

/// "192.0.2.1, 192.0.2.2", or "nothing" for an empty list.
std::string join_addresses(const std::vector<std::string>& addresses);

/// "host.example.com AAAA".
std::string record_text(const Desired& desired);

/// What rules a request out before anything is sent, or nullopt: a name outside the zone
/// (`zone` empty: no zone to check), no address of the record's family among the wanted ones
/// (`wanted` is canonical_addresses() of them), a negative TTL.
std::optional<std::string> desired_problem(const Desired& desired, const std::string& zone,
                                           const std::vector<std::string>& wanted);

/// "host.example.com A now holds 192.0.2.1 (TTL 300); it held nothing".
std::string updated_message(const Desired& desired, const std::vector<std::string>& wanted,
                            uint32_t ttl, const std::vector<std::string>& before);
/// "host.example.com A already holds 192.0.2.1 (TTL 300)".
std::string unchanged_message(const Desired& desired, const RrsetState& current);

/// The provider for a record's config; fails only when the config cannot work (a bad key).
Result<std::unique_ptr<Provider>> make_provider(const config::ProviderConfig& config,
                                                ProviderContext context);

}  // namespace ddnswatch::providers
