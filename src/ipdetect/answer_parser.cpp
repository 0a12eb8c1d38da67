#include "ipdetect/answer_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "ipdetect/address.h"

namespace ddnswatch::ipdetect {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Echo services that fail often answer 200 with an error or captive-portal page.
bool looks_like_html(std::string_view trimmed) { return !trimmed.empty() && trimmed[0] == '<'; }

// A short, printable quote of what came back, for the error message.
std::string excerpt(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out;
  for (char c : s.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : '?';
  }
  if (s.size() > kMax) out += "...";
  return out;
}

tl::unexpected<Error> corrupt(std::string message) {
  return make_error(ErrorCode::kCorrupt, std::move(message));
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (is_space(s[i]) || s[i] == ',')) ++i;
    size_t start = i;
    while (i < s.size() && !is_space(s[i]) && s[i] != ',') ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
  return words;
}

}  // namespace

Result<std::string> parse_text_answer(std::string_view body) {
  const std::string_view t = trim(body);
  if (t.empty()) return corrupt("the answer is empty");
  if (looks_like_html(t)) return corrupt("answer is not an IP address (an HTML page?)");
  if (parse_ip(t)) return std::string(t);
  const auto words = split_words(t);
  if (words.size() > 1 &&
      std::all_of(words.begin(), words.end(), [](std::string_view w) { return parse_ip(w); })) {
    return corrupt(fmt::format("answer holds {} addresses, not one", words.size()));
  }
  return corrupt(fmt::format("answer is not an IP address: \"{}\"", excerpt(t)));
}

Result<std::string> parse_trace_answer(std::string_view body) {
  const std::string_view t = trim(body);
  if (t.empty()) return corrupt("the answer is empty");
  if (looks_like_html(t)) return corrupt("answer is not a trace (an HTML page?)");
  std::vector<std::string_view> ips;
  std::string_view rest = t;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    const std::string_view line = trim(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return corrupt(
          fmt::format("answer is not a trace of key=value lines: \"{}\"", excerpt(line)));
    }
    if (line.substr(0, eq) == "ip") ips.push_back(trim(line.substr(eq + 1)));
  }
  if (ips.empty()) return corrupt("the trace has no ip= line");
  if (ips.size() > 1) return corrupt(fmt::format("the trace has {} ip= lines", ips.size()));
  if (!parse_ip(ips[0])) {
    return corrupt(fmt::format("ip= holds \"{}\", not an IP address", excerpt(ips[0])));
  }
  return std::string(ips[0]);
}

Result<std::string> parse_json_answer(std::string_view body) {
  const std::string_view t = trim(body);
  if (t.empty()) return corrupt("the answer is empty");
  if (looks_like_html(t)) return corrupt("answer is not JSON (an HTML page?)");
  const auto doc = nlohmann::json::parse(t, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return corrupt(fmt::format("answer is not JSON: \"{}\"", excerpt(t)));
  const auto it = doc.is_object() ? doc.find("ip") : doc.end();
  if (!doc.is_object() || it == doc.end() || !it->is_string()) {
    return corrupt("answer is not a JSON object with an \"ip\" string");
  }
  const auto& ip = it->get_ref<const std::string&>();
  if (!parse_ip(ip)) {
    return corrupt(fmt::format("\"ip\" holds \"{}\", not an IP address", excerpt(ip)));
  }
  return ip;
}

Result<std::string> parse_echo_answer(config::IpSourceSpec::Format format, std::string_view body,
                                      const std::optional<std::string>& content_type) {
  using Format = config::IpSourceSpec::Format;
  switch (format) {
    case Format::kText:
      return parse_text_answer(body);
    case Format::kTrace:
      return parse_trace_answer(body);
    case Format::kJson:
      return parse_json_answer(body);
    case Format::kAuto:
      break;
  }
  std::string type = content_type.value_or("");
  type = type.substr(0, type.find(';'));
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  type = std::string(trim(type));
  if (type == "application/json" || type.ends_with("+json")) return parse_json_answer(body);
  return parse_text_answer(body);
}

Result<std::string> parse_dns_answer(const resolvers::Answer& answer, resolvers::QType type) {
  using resolvers::Outcome;
  switch (answer.outcome) {
    case Outcome::kNoError:
      break;
    case Outcome::kNoData:
      return corrupt(fmt::format("no {} record (NODATA)", resolvers::to_string(type)));
    case Outcome::kNxDomain:
      return corrupt("the name does not exist (NXDOMAIN)");
    case Outcome::kServFail:
      return corrupt("SERVFAIL");
    case Outcome::kRefused:
      return corrupt(answer.rcode == 5 ? std::string("REFUSED")
                                       : fmt::format("refused (rcode {})", answer.rcode));
    case Outcome::kTimeout:
      return corrupt(answer.detail.empty() ? "timeout" : "timeout: " + answer.detail);
    case Outcome::kNetwork:
      return corrupt("network error: " + answer.detail);
    case Outcome::kMalformed:
      return corrupt("malformed answer: " + answer.detail);
  }
  if (type == resolvers::QType::kTXT) {
    if (answer.records.size() != 1) {
      return corrupt(fmt::format("answer holds {} TXT records, not one", answer.records.size()));
    }
    return parse_text_answer(answer.records[0].value);
  }
  std::set<std::string> distinct;
  for (const auto& r : answer.records) distinct.insert(r.value);
  if (distinct.size() != 1) {
    return corrupt(fmt::format("answer holds {} addresses, not one", distinct.size()));
  }
  return *distinct.begin();
}

}  // namespace ddnswatch::ipdetect
