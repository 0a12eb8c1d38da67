#include "ipdetect/interfaces.h"

#include <fmt/format.h>

#ifndef _WIN32
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#endif

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace ddnswatch::ipdetect {
namespace {

constexpr size_t kMaxReasons = 4;

std::string scope_text(const std::string& address, int scope) {
  switch (scope) {
    case 0x10:
      return address + " is loopback";
    case 0x20:
      return address + " is link-local";
    case 0x40:
      return address + " has site scope";
    default:
      return fmt::format("{} has scope {:#x}, not global", address, scope);
  }
}

std::string reasons_text(const std::vector<std::string>& reasons) {
  std::string out;
  for (size_t i = 0; i < reasons.size() && i < kMaxReasons; ++i) {
    if (i > 0) out += "; ";
    out += reasons[i];
  }
  if (reasons.size() > kMaxReasons)
    out += fmt::format("; and {} more", reasons.size() - kMaxReasons);
  return out;
}

// The first `prefix_length` bits of `base`, then those of `suffix`.
IpAddress with_suffix(const IpAddress& base, const IpAddress& suffix, int prefix_length) {
  IpAddress out = base;
  for (int bit = prefix_length; bit < 128; ++bit) {
    const auto i = static_cast<size_t>(bit / 8);
    const auto mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    out.bytes[i] = static_cast<uint8_t>((out.bytes[i] & ~mask) | (suffix.bytes[i] & mask));
  }
  return out;
}

template <typename T>
bool parse_hex(std::string_view text, T& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::vector<Inet6Entry> parse_if_inet6(std::string_view text) {
  std::vector<Inet6Entry> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string hex, index, plen, scope, flags, name;
    if (!(fields >> hex >> index >> plen >> scope >> flags >> name) || hex.size() != 32) continue;
    Inet6Entry e;
    e.address.family = Family::kIpv6;
    bool good = true;
    for (size_t i = 0; i < 16 && good; ++i) {
      good = parse_hex(std::string_view(hex).substr(i * 2, 2), e.address.bytes[i]);
    }
    unsigned ifindex = 0;
    good = good && parse_hex(index, ifindex) && parse_hex(plen, e.prefix_length) &&
           parse_hex(scope, e.scope) && parse_hex(flags, e.flags);
    if (!good || e.prefix_length > 128) continue;
    e.interface = name;
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::string> choose_ipv6(const std::vector<Inet6Entry>& entries,
                                const config::IpSourceSpec& spec, const AddressFilter& filter) {
  const bool want_temporary = spec.policy == config::IpSourceSpec::Policy::kTemporary;
  std::optional<IpAddress> suffix;
  if (spec.suffix) {
    suffix = parse_ip(*spec.suffix);
    if (!suffix || suffix->family != Family::kIpv6) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("suffix {} is not an IPv6 address", *spec.suffix));
    }
  }
  struct Candidate {
    IpAddress result;
    bool permanent;
  };
  std::vector<Candidate> usable;
  std::vector<std::string> reasons;
  bool any = false;
  for (const Inet6Entry& e : entries) {
    if (e.interface != spec.interface) continue;
    any = true;
    const std::string a = e.address.to_string();
    if (e.scope != 0) {
      reasons.push_back(scope_text(a, e.scope));
    } else if (e.flags & kIfaDadFailed) {
      reasons.push_back(a + " failed duplicate address detection");
    } else if (e.flags & kIfaTentative) {
      reasons.push_back(a + " is tentative (duplicate address detection is running)");
    } else if (e.flags & kIfaDeprecated) {
      reasons.push_back(a + " is deprecated");
    } else if (want_temporary && !(e.flags & kIfaTemporary)) {
      reasons.push_back(a + " is not a temporary address");
    } else if (!want_temporary && (e.flags & kIfaTemporary)) {
      reasons.push_back(a + " is a temporary address");
    } else {
      const IpAddress result =
          suffix ? with_suffix(e.address, *suffix, spec.prefix_length) : e.address;
      if (auto why = filter.reject_reason(result)) {
        reasons.push_back(*why);
      } else {
        usable.push_back({result, (e.flags & kIfaPermanent) != 0});
      }
    }
  }
  if (!any) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("{} has no IPv6 address (is the interface name right?)", spec.interface));
  }
  if (usable.empty()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{} has no usable {} global IPv6 address: {}", spec.interface,
                                  want_temporary ? "temporary" : "stable", reasons_text(reasons)));
  }
  std::sort(usable.begin(), usable.end(), [](const Candidate& x, const Candidate& y) {
    if (x.permanent != y.permanent) return x.permanent;
    return x.result.bytes < y.result.bytes;
  });
  return usable.front().result.to_string();
}

Result<std::string> choose_ipv4(const std::vector<Ipv4Entry>& entries, const std::string& name,
                                const AddressFilter& filter) {
  std::vector<std::string> reasons;
  bool any = false;
  for (const Ipv4Entry& e : entries) {
    if (e.interface != name && !e.interface.starts_with(name + ":")) continue;
    any = true;
    if (!e.up) {
      reasons.push_back(fmt::format("{} is down", e.interface));
    } else if (auto why = filter.reject_reason(e.address)) {
      reasons.push_back(*why);
    } else {
      return e.address.to_string();
    }
  }
  if (!any) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{} has no IPv4 address (is the interface name right?)", name));
  }
  return make_error(ErrorCode::kNotFound,
                    fmt::format("{} has no usable IPv4 address: {}", name, reasons_text(reasons)));
}

#ifdef _WIN32

// Windows has neither /proc/net/if_inet6 nor getifaddrs; GetAdaptersAddresses would serve,
// with its own names and flags, and is not wired up yet.
InterfaceReader InterfaceReader::system() {
  static constexpr const char* kWhy =
      "interface sources are not supported on Windows yet; use HTTP or DNS sources";
  InterfaceReader r;
  r.read_if_inet6 = []() -> Result<std::string> {
    return make_error(ErrorCode::kUnsupported, kWhy);
  };
  r.list_ipv4 = []() -> Result<std::vector<Ipv4Entry>> {
    return make_error(ErrorCode::kUnsupported, kWhy);
  };
  return r;
}

#else

InterfaceReader InterfaceReader::system() {
  InterfaceReader r;
  r.read_if_inet6 = []() -> Result<std::string> {
    std::ifstream in("/proc/net/if_inet6");
    if (!in) {
      return make_error(ErrorCode::kNotFound,
                        "cannot read /proc/net/if_inet6 (is IPv6 disabled on this host?)");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  r.list_ipv4 = []() -> Result<std::vector<Ipv4Entry>> {
    ifaddrs* raw = nullptr;
    if (getifaddrs(&raw) != 0) {
      return make_error(ErrorCode::kIo, fmt::format("getifaddrs: {}",
                                                    std::strerror(errno)));  // NOLINT
    }
    const std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> list(raw, &freeifaddrs);
    std::vector<Ipv4Entry> out;
    for (const ifaddrs* i = list.get(); i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      Ipv4Entry e;
      e.interface = i->ifa_name;
      e.up = (i->ifa_flags & IFF_UP) != 0;
      e.address.family = Family::kIpv4;
      sockaddr_in sin{};
      std::memcpy(&sin, i->ifa_addr, sizeof sin);
      std::memcpy(e.address.bytes.data(), &sin.sin_addr, 4);
      out.push_back(std::move(e));
    }
    return out;
  };
  return r;
}

#endif

}  // namespace ddnswatch::ipdetect
