// Addresses of local network interfaces: IPv4 from getifaddrs, IPv6 from /proc/net/if_inet6
// (which carries the flags that matter: tentative, deprecated, temporary). Reading is behind
// InterfaceReader so tests feed fixed text; choosing is pure.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "ipdetect/address.h"

namespace ddnswatch::ipdetect {

/// The IFA_F_* flags as /proc/net/if_inet6 prints them (the low 8 bits).
inline constexpr unsigned kIfaTemporary = 0x01;   // a privacy address (RFC 8981)
inline constexpr unsigned kIfaDadFailed = 0x08;   // duplicate address detection failed
inline constexpr unsigned kIfaDeprecated = 0x20;  // preferred lifetime over: not for new use
inline constexpr unsigned kIfaTentative = 0x40;   // duplicate address detection still running
inline constexpr unsigned kIfaPermanent = 0x80;   // configured by hand, not autoconfigured

/// One line of /proc/net/if_inet6.
struct Inet6Entry {
  IpAddress address;
  int prefix_length = 0;
  int scope = 0;  // 0 global, 0x20 link, 0x10 host, 0x40 site
  unsigned flags = 0;
  std::string interface;
};

/// Parses /proc/net/if_inet6; lines that do not have its shape are skipped.
std::vector<Inet6Entry> parse_if_inet6(std::string_view text);

/// One IPv4 address of an interface, as getifaddrs lists it.
struct Ipv4Entry {
  std::string interface;  // aliases appear as "eth0:1"
  IpAddress address;
  bool up = true;
};

/// The IPv6 address the source `spec` (kind kInterface) asks for: a global address of the
/// interface that is neither tentative, nor failed, nor deprecated; non-temporary under the
/// stable policy (hand-configured ones first), temporary under the temporary policy; the
/// lowest such address when several qualify, so the choice does not flip between runs. With
/// a suffix, the chosen address's first prefix_length bits followed by the suffix. The error
/// says what the interface has and why none of it qualifies.
Result<std::string> choose_ipv6(const std::vector<Inet6Entry>& entries,
                                const config::IpSourceSpec& spec, const AddressFilter& filter);

/// The first IPv4 address of interface `name` (or its aliases) that the filter accepts.
Result<std::string> choose_ipv4(const std::vector<Ipv4Entry>& entries, const std::string& name,
                                const AddressFilter& filter);

/// Where interface addresses come from. Loop thread (reads are quick, local and synchronous).
struct InterfaceReader {
  std::function<Result<std::string>()> read_if_inet6;
  std::function<Result<std::vector<Ipv4Entry>>()> list_ipv4;
  /// /proc/net/if_inet6 and getifaddrs.
  static InterfaceReader system();
};

}  // namespace ddnswatch::ipdetect
