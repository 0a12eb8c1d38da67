// Reading what an IP source answered: an echo service's body (plain text, Cloudflare's trace,
// JSON) or a DNS answer. An answer must hold exactly one address and nothing else: an HTML
// page, two addresses or extra words are errors, never "the first thing that looks like an
// IP". The result is the address's text, not yet checked for family or bogons (AddressFilter
// does that). Pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/result.h"
#include "resolvers/dns_types.h"

namespace ddnswatch::ipdetect {

/// The whole body, whitespace around it aside, is one address ("203.0.113.7\n").
Result<std::string> parse_text_answer(std::string_view body);

/// Cloudflare's /cdn-cgi/trace: key=value lines, exactly one of them "ip=ADDRESS".
Result<std::string> parse_trace_answer(std::string_view body);

/// A JSON object whose "ip" member is the address as a string: {"ip": "203.0.113.7"}.
Result<std::string> parse_json_answer(std::string_view body);

/// Reads `body` in `format`. kAuto is JSON when `content_type` is application/json (or
/// another +json type), plain text otherwise.
Result<std::string> parse_echo_answer(config::IpSourceSpec::Format format, std::string_view body,
                                      const std::optional<std::string>& content_type);

/// A DNS echo's answer: one A or AAAA record, or one TXT record that holds one address
/// (whoami.cloudflare, o-o.myaddr.l.google.com). Other outcomes become their error.
Result<std::string> parse_dns_answer(const resolvers::Answer& answer, resolvers::QType type);

}  // namespace ddnswatch::ipdetect
