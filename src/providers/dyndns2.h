// The DynDNS2 protocol (Dyn, No-IP, Dynu and the many services and routers that copied it):
// GET {server}/nic/update?hostname=NAME&myip=IP with HTTP Basic auth and a User-Agent of the
// protocol's "Company - Model - Version" form; the answer is one status line per host.
//
// The protocol has no way to read a record, and services block accounts that send updates that
// change nothing (a run of "nochg"). So what the service holds is what the updater last saw it
// accept (Desired::held, kept in the state file): when that is the wanted address, nothing is
// sent. One address per record type; no TTL (the service decides).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/result.h"
#include "providers/provider.h"

namespace ddnswatch::providers {

/// Fails only when the config cannot work: a server that is not an http(s) URL, a user name
/// with a colon (HTTP Basic auth cannot carry it).
Result<std::unique_ptr<Provider>> make_dyndns2_provider(const config::Dyndns2Provider& config,
                                                        const config::ProviderConfig& common,
                                                        ProviderContext context);

/// The first status line of a DynDNS2 answer: "good 192.0.2.1" → {"good", "192.0.2.1"}.
struct Dyndns2Status {
  std::string code;     // lower case: "good", "nochg", "badauth", "911", ...; "" when none
  std::string address;  // the word after the code, as the service wrote it ("" when none)

  bool operator==(const Dyndns2Status&) const = default;
};

/// Reads the first non-blank line (LF or CRLF) of `body`: its first word is the code, the second
/// the address. Says nothing about whether the code is one the protocol knows.
Dyndns2Status parse_dyndns2_status(std::string_view body);

}  // namespace ddnswatch::providers
