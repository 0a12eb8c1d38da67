// Addresses as the IP detector judges them: strict parsing, the bogon table (RFC 6890's
// special-purpose ranges and whatever else may never be published as a host's public address),
// and the user's allow list that overrides it. Pure functions; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace ddnswatch::ipdetect {

enum class Family { kIpv4, kIpv6 };
const char* to_string(Family family);     // "ipv4", "ipv6"
const char* display_name(Family family);  // "IPv4", "IPv6"

struct IpAddress {
  Family family = Family::kIpv4;
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes
  std::string to_string() const;    // canonical, as inet_ntop prints it
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

/// Exactly an IPv4 or IPv6 literal: no surrounding space, no zone ("%eth0"), no prefix.
std::optional<IpAddress> parse_ip(std::string_view text);

/// Why `address` is not a public unicast address, e.g. "203.0.113.0/24 is a documentation
/// range (RFC 5737)"; nullopt when it is one. IPv6 outside 2000::/3 is never public; inside
/// 2001::/23 only the ranges RFC 6890's registry calls globally reachable are.
std::optional<std::string> bogon_reason(const IpAddress& address);

/// The bogon check with the user's exceptions (detect.allow).
class AddressFilter {
 public:
  AddressFilter() = default;
  /// Each entry as parse_ip_range reads it; the error names the bad entry.
  static Result<AddressFilter> create(const std::vector<std::string>& allow);

  /// Why `address` may not be used, in a sentence ("203.0.113.5 is not a public address:
  /// 203.0.113.0/24 is a documentation range (RFC 5737)"); nullopt when it may.
  std::optional<std::string> reject_reason(const IpAddress& address) const;

  /// The canonical text of `text` when it is an address of `family` that may be used; the
  /// error says why not (not an address, the other family, a bogon).
  Result<std::string> check(std::string_view text, Family family) const;

 private:
  std::vector<config::IpRange> allow_;
};

}  // namespace ddnswatch::ipdetect
