#include "config/validate.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

#include "core/inet.h"

namespace ddnswatch::config {
namespace {

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

}  // namespace

tl::expected<HostPort, std::string> parse_host_port(std::string_view text,
                                                    std::optional<uint16_t> default_port) {
  auto bad = [&](std::string why) { return tl::unexpected(fmt::format("\"{}\" {}", text, why)); };
  std::string host;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("has \"[\" without \"]\"");
    host = std::string(text.substr(1, close - 1));
    if (!is_ipv6_address(host)) return bad("has no IPv6 address between the brackets");
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("has text after \"]\" that is not \":PORT\"");
      port_text = rest.substr(1);
      has_port = true;
    }
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    // A bare IPv6 address: only valid without a port.
    host = std::string(text);
    if (!is_ipv6_address(host))
      return bad("is not an address; write IPv6 with a port as [ADDR]:PORT");
  } else {
    size_t colon = text.find(':');
    host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      has_port = true;
    }
  }
  if (host.empty()) return bad("has no host");
  HostPort out{host, 0};
  if (!has_port) {
    if (!default_port) return bad("needs a port, such as \"127.0.0.1:9877\"");
    out.port = *default_port;
    return out;
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      value > 65535) {
    return bad("has no valid port (0 to 65535) after the colon");
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

bool is_ipv4_address(const std::string& text) {
  unsigned char buf[4];
  return inet_pton(AF_INET, text.c_str(), buf) == 1;
}

bool is_ipv6_address(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::string canonical_ip(const std::string& text) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN] = {};
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    inet_ntop(AF_INET, buf, out, sizeof out);
    return out;
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    inet_ntop(AF_INET6, buf, out, sizeof out);
    return out;
  }
  return text;
}

bool is_ip_address(const std::string& text) {
  return is_ipv4_address(text) || is_ipv6_address(text);
}

bool is_http_url(std::string_view text) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (text.size() > scheme.size() && text.substr(0, scheme.size()) == scheme) {
      char first = text[scheme.size()];
      return first != '/' && first != ':' && first != '?' && first != '#';
    }
  }
  return false;
}

bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0 || label > 63) return false;
      label = 0;
      continue;
    }
    char c = name[i];
    if (!is_alnum(c) && c != '-' && c != '_' && c != '*') return false;
    ++label;
  }
  return true;
}

std::string strip_final_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return std::string(name);
}

bool name_in_zone(std::string_view name, std::string_view zone) {
  if (zone.size() > name.size()) return false;
  std::string_view tail = name.substr(name.size() - zone.size());
  for (size_t i = 0; i < zone.size(); ++i) {
    if (lower(tail[i]) != lower(zone[i])) return false;
  }
  return name.size() == zone.size() || name[name.size() - zone.size() - 1] == '.';
}

bool is_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return false;
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=') {
      if (i < text.size() - 2) return false;
      ++pad;
    } else if (pad > 0 || !(is_alnum(c) || c == '+' || c == '/')) {
      return false;
    }
  }
  return pad <= 2;
}

bool is_identifier(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool is_header_name(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_alnum(c) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace ddnswatch::config
