// Small validators for values in the config: addresses, names, URLs. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace ddnswatch::config {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

/// "HOST:PORT", "[IPv6]:PORT", or, when `default_port` is given, "HOST", "IPv6" and "[IPv6]".
/// The error is a message for people.
tl::expected<HostPort, std::string> parse_host_port(std::string_view text,
                                                    std::optional<uint16_t> default_port);

bool is_ipv4_address(const std::string& text);
bool is_ipv6_address(const std::string& text);
bool is_ip_address(const std::string& text);
/// The canonical text of an IP address (as inet_ntop prints it: "2001:db8::1" for
/// "2001:DB8:0:0::1"), so that addresses compare as strings; the input if it is not one.
std::string canonical_ip(const std::string& text);
bool is_http_url(std::string_view text);
/// Letters, digits, '-' and '_' per label; labels of 1..63 bytes; 253 bytes in all.
bool is_dns_name(std::string_view name);
std::string strip_final_dot(std::string_view name);
/// True when `name` equals `zone` or lies below it (case-insensitive).
bool name_in_zone(std::string_view name, std::string_view zone);
bool is_base64(std::string_view text);
/// Letters, digits, '-', '_' and '.', not empty: ids of resolvers and sets.
bool is_identifier(std::string_view text);
bool is_header_name(std::string_view text);

}  // namespace ddnswatch::config
