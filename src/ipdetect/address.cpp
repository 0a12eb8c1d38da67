#include "ipdetect/address.h"

#include <fmt/format.h>

#include "core/inet.h"

namespace ddnswatch::ipdetect {
namespace {

struct Special {
  config::IpRange range;
  const char* what;
};

std::vector<Special> build(std::initializer_list<std::pair<const char*, const char*>> entries) {
  std::vector<Special> out;
  for (const auto& [text, what] : entries) {
    // The table is ours and fixed: a range that does not parse is a programming error.
    out.push_back({config::parse_ip_range(text).value(), what});
  }
  return out;
}

// First match wins: more specific entries come before the ranges that contain them.
const std::vector<Special>& special_ranges() {
  static const std::vector<Special> table = build({
      {"0.0.0.0/8", "\"this network\" (RFC 791)"},
      {"10.0.0.0/8", "a private range (RFC 1918)"},
      {"100.64.0.0/10", "shared address space for carrier-grade NAT (RFC 6598)"},
      {"127.0.0.0/8", "loopback (RFC 1122)"},
      {"169.254.0.0/16", "link-local (RFC 3927)"},
      {"172.16.0.0/12", "a private range (RFC 1918)"},
      {"192.0.0.0/24", "reserved for IETF protocol assignments (RFC 6890)"},
      {"192.0.2.0/24", "a documentation range (RFC 5737)"},
      {"192.168.0.0/16", "a private range (RFC 1918)"},
      {"198.18.0.0/15", "reserved for benchmarking (RFC 2544)"},
      {"198.51.100.0/24", "a documentation range (RFC 5737)"},
      {"203.0.113.0/24", "a documentation range (RFC 5737)"},
      {"224.0.0.0/4", "multicast (RFC 5771)"},
      {"255.255.255.255/32", "the limited broadcast address (RFC 919)"},
      {"240.0.0.0/4", "reserved for future use (RFC 1112)"},
      {"::/128", "the unspecified address (RFC 4291)"},
      {"::1/128", "loopback (RFC 4291)"},
      {"::ffff:0:0/96", "IPv4-mapped (RFC 4291)"},
      {"64:ff9b::/96", "the NAT64 prefix (RFC 6052): it stands for an IPv4 address"},
      {"64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"},
      {"100::/64", "discard-only (RFC 6666)"},
      {"2001::/32", "Teredo (RFC 4380)"},
      {"2001:2::/48", "reserved for benchmarking (RFC 5180)"},
      {"2001::/23", "reserved for IETF protocol assignments (RFC 2928)"},
      {"2001:db8::/32", "a documentation range (RFC 3849)"},
      {"3fff::/20", "a documentation range (RFC 9637)"},
      {"fc00::/7", "a unique local range (ULA, RFC 4193)"},
      {"fe80::/10", "link-local (RFC 4291)"},
      {"fec0::/10", "deprecated site-local (RFC 3879)"},
      {"ff00::/8", "multicast (RFC 4291)"},
  });
  return table;
}

// Inside 2001::/23, what the IANA special-purpose registry (RFC 6890 and its updates) marks
// globally reachable: anycast services and AMT, AS112 and ORCHIDv2 ranges.
const std::vector<config::IpRange>& reachable_exceptions() {
  static const std::vector<config::IpRange> list = [] {
    std::vector<config::IpRange> out;
    for (const char* text : {"2001:1::1/128", "2001:1::2/128", "2001:1::3/128", "2001:3::/32",
                             "2001:4:112::/48", "2001:20::/28"}) {
      out.push_back(config::parse_ip_range(text).value());
    }
    return out;
  }();
  return list;
}

const config::IpRange& global_unicast() {
  static const config::IpRange range = config::parse_ip_range("2000::/3").value();
  return range;
}

bool is_ipv6(const IpAddress& a) { return a.family == Family::kIpv6; }

}  // namespace

const char* to_string(Family family) { return family == Family::kIpv4 ? "ipv4" : "ipv6"; }

const char* display_name(Family family) { return family == Family::kIpv4 ? "IPv4" : "IPv6"; }

std::string IpAddress::to_string() const {
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == Family::kIpv4 ? AF_INET : AF_INET6, bytes.data(), out, sizeof out);
  return out;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  // inet_pton needs a terminated string; anything longer than an address is not one.
  // inet_pton would stop at an embedded NUL and accept what came before it.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN ||
      text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = Family::kIpv4;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = Family::kIpv6;
    return a;
  }
  return std::nullopt;
}

std::optional<std::string> bogon_reason(const IpAddress& address) {
  if (is_ipv6(address)) {
    for (const auto& r : reachable_exceptions()) {
      if (r.contains(true, address.bytes)) return std::nullopt;
    }
  }
  for (const auto& s : special_ranges()) {
    if (s.range.contains(is_ipv6(address), address.bytes)) {
      return fmt::format("{} is {}", s.range.to_string(), s.what);
    }
  }
  if (is_ipv6(address) && !global_unicast().contains(true, address.bytes)) {
    return "it is outside 2000::/3, the global unicast range (RFC 4291)";
  }
  return std::nullopt;
}

Result<AddressFilter> AddressFilter::create(const std::vector<std::string>& allow) {
  AddressFilter f;
  for (const auto& text : allow) {
    auto range = config::parse_ip_range(text);
    if (!range) return make_error(ErrorCode::kInvalidArgument, "detect.allow: " + range.error());
    f.allow_.push_back(*range);
  }
  return f;
}

std::optional<std::string> AddressFilter::reject_reason(const IpAddress& address) const {
  for (const auto& r : allow_) {
    if (r.contains(is_ipv6(address), address.bytes)) return std::nullopt;
  }
  auto why = bogon_reason(address);
  if (!why) return std::nullopt;
  return fmt::format("{} is not a public address: {}", address.to_string(), *why);
}

Result<std::string> AddressFilter::check(std::string_view text, Family family) const {
  auto address = parse_ip(text);
  if (!address) return make_error(ErrorCode::kCorrupt, "answer is not an IP address");
  if (address->family != family) {
    return make_error(ErrorCode::kCorrupt, fmt::format("answer is an {} address ({}), not {}",
                                                       display_name(address->family),
                                                       address->to_string(), display_name(family)));
  }
  if (auto why = reject_reason(*address)) return make_error(ErrorCode::kCorrupt, *why);
  return address->to_string();
}

}  // namespace ddnswatch::ipdetect
