#include "config/config_loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "config/validate.h"
#include "core/atomic_file.h"
#include "core/duration.h"
#include "core/inet.h"

namespace ddnswatch::config {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

enum class Need { kOptional, kRequired };

const std::vector<std::string> kRecordTypes = {"A", "AAAA"};
const std::vector<std::string> kProviderKinds = {"cloudflare", "alidns",  "dnspod",
                                                 "dyndns2",    "rfc2136", "powerdns"};
const std::vector<std::string> kTsigAlgorithms = {"hmac-sha256", "hmac-sha512"};
const std::vector<std::string> kLogLevels = {"trace", "debug",    "info", "warn",
                                             "error", "critical", "off"};
const std::vector<std::string> kLogFormats = {"text", "json"};
const std::vector<std::string> kTransports = {"udp", "udp-only", "tcp"};
const std::vector<std::string> kWebhookPresets = {"plain", "slack", "dingtalk", "wecom", "feishu"};
const std::vector<std::string> kEvents = {
    "ip_changed",        "record_updated",       "record_failed",   "resolver_foreign",
    "resolver_stale",    "resolver_recovered",   "resolver_error",  "split_brain_began",
    "split_brain_ended", "propagation_complete", "expected_changed"};
const std::vector<std::string> kTemplateFields = {
    "event", "summary", "name", "qtype", "resolver", "detail", "severity", "time", "instance"};
const std::vector<std::string> kNamedIpSources = {"cloudflare-trace", "ipify",       "icanhazip",
                                                  "ifconfig-me",      "aws-checkip", "opendns-dns",
                                                  "cloudflare-dns",   "google-dns"};
const std::vector<std::string> kIpSourcePrefixes = {"url:", "dns:", "interface:", "static:"};

std::string describe_type(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "an unsupported value";
  }
}

// RFC 6901: "~" and "/" in a key are escaped.
std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

// The message for a value outside a fixed set: a suggestion when one is close, else the list.
std::string unknown_value(std::string_view noun, const std::string& value,
                          const std::vector<std::string>& allowed) {
  if (auto s = did_you_mean(value, allowed)) {
    return fmt::format("unknown {} \"{}\" (did you mean \"{}\"?)", noun, value, *s);
  }
  return fmt::format("unknown {} \"{}\"; use one of: {}", noun, value, join(allowed));
}

// Collects diagnostics; knows the config's folder and how to look up environment variables.
class Context {
 public:
  Context(fs::path base_dir, const EnvLookup& env) : base_dir_(std::move(base_dir)), env_(env) {}

  void error(const std::string& path, std::string message) {
    errors.push_back(Diagnostic{path, std::move(message)});
  }

  fs::path resolve(const std::string& p) const {
    fs::path path(p);
    return path.is_absolute() ? path : (base_dir_ / path).lexically_normal();
  }

  // ${NAME} is replaced by the variable's value, $$ by a single $.
  std::optional<std::string> expand(const std::string& raw, const std::string& path) {
    if (raw.find('$') == std::string::npos) return raw;
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '$' || i + 1 >= raw.size()) {
        out += raw[i];
        continue;
      }
      if (raw[i + 1] == '$') {
        out += '$';
        ++i;
        continue;
      }
      if (raw[i + 1] != '{') {
        out += raw[i];
        continue;
      }
      size_t close = raw.find('}', i + 2);
      if (close == std::string::npos) {
        error(path, "unterminated \"${\"; write ${NAME}, or $$ for a literal $");
        return std::nullopt;
      }
      std::string name = raw.substr(i + 2, close - i - 2);
      static const std::regex kName("[A-Za-z_][A-Za-z0-9_]*");
      if (!std::regex_match(name, kName)) {
        error(path, fmt::format("\"${{{}}}\" is not a valid environment variable reference", name));
        return std::nullopt;
      }
      std::optional<std::string> value = env_(name);
      if (!value) {
        error(path, fmt::format("environment variable {} is not set", name));
        return std::nullopt;
      }
      out += *value;
      i = close;
    }
    return out;
  }

  std::vector<Diagnostic> errors;

 private:
  fs::path base_dir_;
  const EnvLookup& env_;
};

// One JSON object being read: reports unknown keys on construction, then typed getters
// report wrong types and bad values with the key's path.
class Object {
 public:
  Object(Context& ctx, const json* j, std::string path, std::vector<std::string> keys)
      : ctx_(ctx), j_(j), path_(std::move(path)), keys_(std::move(keys)) {
    if (j_ == nullptr) return;
    if (!j_->is_object()) {
      ctx_.error(display_path(), "expected an object, got " + describe_type(*j_));
      j_ = nullptr;
      return;
    }
    for (const auto& [key, value] : j_->items()) {
      if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) continue;
      if (auto s = did_you_mean(key, keys_)) {
        ctx_.error(at(key), fmt::format("unknown key (did you mean \"{}\"?)", *s));
      } else {
        ctx_.error(at(key), "unknown key; allowed here: " + join(keys_));
      }
    }
  }

  bool ok() const { return j_ != nullptr; }
  const std::string& path() const { return path_; }
  std::string display_path() const { return path_.empty() ? "/" : path_; }
  std::string at(std::string_view key) const { return path_ + "/" + pointer_token(key); }

  const json* get(const std::string& key) const {
    if (!j_) return nullptr;
    auto it = j_->find(key);
    return it == j_->end() ? nullptr : &*it;
  }

  bool has(const std::string& key) const { return get(key) != nullptr; }

  // Returns the value if present; reports a missing required key.
  const json* need(const std::string& key, Need need) const {
    const json* v = get(key);
    if (!v && ok() && need == Need::kRequired) {
      ctx_.error(display_path(), fmt::format("missing required key \"{}\"", key));
    }
    return v;
  }

  std::optional<std::string> string(const std::string& key, Need n = Need::kOptional) {
    const json* v = need(key, n);
    if (!v) return std::nullopt;
    return string_value(ctx_, *v, at(key));
  }

  std::optional<std::string> non_empty_string(const std::string& key, Need n = Need::kOptional) {
    auto s = string(key, n);
    if (s && s->empty()) {
      ctx_.error(at(key), "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<int64_t> integer(const std::string& key, int64_t min, int64_t max,
                                 Need n = Need::kOptional) {
    const json* v = need(key, n);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) {
      ctx_.error(at(key), "expected an integer, got " + describe_type(*v));
      return std::nullopt;
    }
    // Unsigned values above INT64_MAX wrap when read signed; they are out of range anyway.
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
      ctx_.error(at(key), fmt::format("{} is out of range; use an integer from {} to {}",
                                      v->get<uint64_t>(), min, max));
      return std::nullopt;
    }
    auto value = v->get<int64_t>();
    if (value < min || value > max) {
      ctx_.error(at(key),
                 fmt::format("{} is out of range; use an integer from {} to {}", value, min, max));
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> boolean(const std::string& key) {
    const json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) {
      ctx_.error(at(key), "expected true or false, got " + describe_type(*v));
      return std::nullopt;
    }
    return v->get<bool>();
  }

  std::optional<Duration> duration(const std::string& key, Duration min, Need n = Need::kOptional) {
    const json* v = need(key, n);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      ctx_.error(at(key), "expected a duration string such as \"30s\", got " + describe_type(*v));
      return std::nullopt;
    }
    auto text = string_value(ctx_, *v, at(key));
    if (!text) return std::nullopt;
    auto d = parse_duration(*text);
    if (!d) {
      ctx_.error(at(key), d.error().message);
      return std::nullopt;
    }
    if (*d < min) {
      ctx_.error(at(key), fmt::format("\"{}\" is too short; the minimum is \"{}\"", *text,
                                      format_duration(min)));
      return std::nullopt;
    }
    return *d;
  }

  std::optional<std::string> choice(const std::string& key, std::string_view noun,
                                    const std::vector<std::string>& allowed,
                                    Need n = Need::kOptional) {
    auto s = string(key, n);
    if (!s) return std::nullopt;
    if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
      ctx_.error(at(key), unknown_value(noun, *s, allowed));
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::vector<std::string>> string_list(const std::string& key, Need n,
                                                      bool allow_empty) {
    const json* v = need(key, n);
    if (!v) return std::nullopt;
    if (!v->is_array()) {
      ctx_.error(at(key), "expected an array of strings, got " + describe_type(*v));
      return std::nullopt;
    }
    if (v->empty() && !allow_empty) {
      ctx_.error(at(key), "must list at least one entry");
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool good = true;
    for (size_t i = 0; i < v->size(); ++i) {
      auto s = string_value(ctx_, (*v)[i], at(key) + "/" + std::to_string(i));
      if (s) {
        out.push_back(*s);
      } else {
        good = false;
      }
    }
    if (!good) return std::nullopt;
    return out;
  }

  // A secret given inline (usually "${ENV}") as `key`, or read from the file named by
  // `key`_file. Never echoes the value in a message.
  std::optional<Secret> secret(const std::string& key, Need n = Need::kRequired) {
    const std::string file_key = key + "_file";
    const json* inline_value = get(key);
    const json* file_value = get(file_key);
    if (inline_value && file_value) {
      ctx_.error(display_path(),
                 fmt::format("set either \"{}\" or \"{}\", not both", key, file_key));
      return std::nullopt;
    }
    if (!inline_value && !file_value) {
      if (ok() && n == Need::kRequired) {
        ctx_.error(display_path(),
                   fmt::format("missing required key \"{}\" (or \"{}\")", key, file_key));
      }
      return std::nullopt;
    }
    if (inline_value) {
      auto s = string_value(ctx_, *inline_value, at(key));
      if (!s) return std::nullopt;
      if (s->empty()) {
        ctx_.error(at(key), "is empty");
        return std::nullopt;
      }
      return Secret(std::move(*s));
    }
    auto file = string_value(ctx_, *file_value, at(file_key));
    if (!file) return std::nullopt;
    fs::path path = ctx_.resolve(*file);
    auto content = read_file(path);
    if (!content) {
      ctx_.error(at(file_key), content.error().message);
      return std::nullopt;
    }
    // Files written by echo or an editor end in a newline that is not part of the secret.
    std::string value = std::move(*content);
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (!value.empty() && value.back() == '\r') value.pop_back();
    if (value.empty()) {
      ctx_.error(at(file_key), fmt::format("{} is empty", path.string()));
      return std::nullopt;
    }
    return Secret(std::move(value));
  }

  static std::optional<std::string> string_value(Context& ctx, const json& v,
                                                 const std::string& path) {
    if (!v.is_string()) {
      ctx.error(path, "expected a string, got " + describe_type(v));
      return std::nullopt;
    }
    return ctx.expand(v.get<std::string>(), path);
  }

 private:
  Context& ctx_;
  const json* j_;
  std::string path_;
  std::vector<std::string> keys_;
};

// Reads each element of an array at `key` with `read(element, path)`.
template <typename T, typename Fn>
std::vector<T> read_array(Context& ctx, Object& parent, const std::string& key, Fn read) {
  std::vector<T> out;
  const json* v = parent.get(key);
  if (!v) return out;
  if (!v->is_array()) {
    ctx.error(parent.at(key), "expected an array, got " + describe_type(*v));
    return out;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    if (auto item = read((*v)[i], parent.at(key) + "/" + std::to_string(i))) {
      out.push_back(std::move(*item));
    }
  }
  return out;
}

std::optional<ListenAddress> read_listen(Context& ctx, Object& root) {
  auto text = root.string("listen");
  if (!text) return std::nullopt;
  auto parsed = parse_host_port(*text, std::nullopt);
  if (!parsed) {
    ctx.error(root.at("listen"), parsed.error());
    return std::nullopt;
  }
  if (!is_ip_address(parsed->host)) {
    ctx.error(root.at("listen"),
              fmt::format("\"{}\" must use an IP address, such as \"127.0.0.1:9877\"", *text));
    return std::nullopt;
  }
  return ListenAddress{parsed->host, parsed->port};
}

std::optional<FamilyDetect> read_family(Context& ctx, const json* j, const std::string& path,
                                        bool ipv6) {
  Object o(ctx, j, path, {"sources", "quorum"});
  if (!o.ok()) return std::nullopt;
  FamilyDetect fam;
  auto sources = o.string_list("sources", Need::kRequired, /*allow_empty=*/false);
  if (sources) {
    std::set<std::string> seen;
    for (size_t i = 0; i < sources->size(); ++i) {
      const std::string& s = (*sources)[i];
      std::string spath = o.at("sources") + "/" + std::to_string(i);
      if (!seen.insert(s).second) {
        ctx.error(spath, fmt::format("source \"{}\" is listed twice", s));
        continue;
      }
      if (auto spec = parse_ip_source(s, ipv6); !spec) ctx.error(spath, spec.error());
    }
    fam.sources = *sources;
  }
  if (auto q = o.integer("quorum", 1, 16)) {
    fam.quorum = static_cast<int>(*q);
    if (sources && fam.quorum > static_cast<int>(sources->size())) {
      ctx.error(o.at("quorum"),
                fmt::format("a quorum of {} needs at least {} sources, but {} are listed",
                            fam.quorum, fam.quorum, sources->size()));
    }
  }
  return fam;
}

std::optional<fs::path> readable_file(Context& ctx, Object& o, const std::string& key);

DetectConfig read_detect(Context& ctx, const json* j, const std::string& path) {
  DetectConfig d;
  Object o(ctx, j, path, {"interval", "timeout", "allow", "ca_file", "ipv4", "ipv6"});
  if (!o.ok()) return d;
  if (auto v = o.duration("interval", std::chrono::seconds(10))) d.interval = *v;
  if (auto v = o.duration("timeout", std::chrono::milliseconds(500))) {
    d.timeout = *v;
    if (d.timeout > d.interval) {
      ctx.error(o.at("timeout"),
                fmt::format("\"{}\" is longer than the interval \"{}\"", format_duration(d.timeout),
                            format_duration(d.interval)));
    }
  }
  if (auto allow = o.string_list("allow", Need::kOptional, /*allow_empty=*/true)) {
    for (size_t i = 0; i < allow->size(); ++i) {
      if (auto range = parse_ip_range((*allow)[i]); !range) {
        ctx.error(o.at("allow") + "/" + std::to_string(i), range.error());
      }
    }
    d.allow = *allow;
  }
  if (o.has("ca_file")) d.ca_file = readable_file(ctx, o, "ca_file");
  if (o.has("ipv4")) d.ipv4 = read_family(ctx, o.get("ipv4"), o.at("ipv4"), /*ipv6=*/false);
  if (o.has("ipv6")) d.ipv6 = read_family(ctx, o.get("ipv6"), o.at("ipv6"), /*ipv6=*/true);
  return d;
}

// The zone a provider manages must contain the record's name.
void check_zone(Context& ctx, const Object& o, const std::string& zone,
                const std::string& record_name) {
  if (!record_name.empty() && !name_in_zone(record_name, zone)) {
    ctx.error(o.at("zone"), fmt::format("record {} is not inside zone {}", record_name, zone));
  }
}

std::optional<std::string> read_zone(Context& ctx, Object& o, const std::string& record_name) {
  auto zone = o.non_empty_string("zone", Need::kRequired);
  if (!zone) return std::nullopt;
  std::string z = strip_final_dot(*zone);
  if (!is_dns_name(z)) {
    ctx.error(o.at("zone"), fmt::format("\"{}\" is not a valid DNS name", *zone));
    return std::nullopt;
  }
  check_zone(ctx, o, z, record_name);
  return z;
}

std::optional<std::string> read_url(Context& ctx, Object& o, const std::string& key, Need n) {
  auto url = o.non_empty_string(key, n);
  if (url && !is_http_url(*url)) {
    ctx.error(o.at(key), fmt::format("\"{}\" is not an http:// or https:// URL", *url));
    return std::nullopt;
  }
  return url;
}

std::optional<ProviderConfig> read_provider(Context& ctx, const json* j, const std::string& path,
                                            const std::string& record_name) {
  // The kind decides which keys are allowed; read it first.
  if (j && !j->is_object()) {
    ctx.error(path, "expected an object, got " + describe_type(*j));
    return std::nullopt;
  }
  std::optional<std::string> kind;
  if (j) {
    auto it = j->find("kind");
    if (it == j->end()) {
      ctx.error(path,
                fmt::format("missing required key \"kind\" (one of: {})", join(kProviderKinds)));
      return std::nullopt;
    }
    auto s = Object::string_value(ctx, *it, path + "/kind");
    if (!s) return std::nullopt;
    if (std::find(kProviderKinds.begin(), kProviderKinds.end(), *s) == kProviderKinds.end()) {
      ctx.error(path + "/kind", unknown_value("provider", *s, kProviderKinds));
      return std::nullopt;
    }
    kind = s;
  }
  std::vector<std::string> common = {"kind", "endpoint", "ca_file"};
  auto keys = [&](std::initializer_list<const char*> extra) {
    std::vector<std::string> all = common;
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  };

  ProviderConfig p;
  std::optional<Object> o;
  bool good = true;
  auto need_ok = [&](auto&& opt) {
    if (!opt) good = false;
    return opt;
  };
  if (*kind == "cloudflare") {
    o.emplace(ctx, j, path, keys({"zone", "token", "token_file"}));
    CloudflareProvider c;
    if (auto z = need_ok(read_zone(ctx, *o, record_name))) c.zone = *z;
    if (auto t = need_ok(o->secret("token"))) c.token = *t;
    p.settings = c;
  } else if (*kind == "alidns") {
    o.emplace(ctx, j, path,
              keys({"zone", "access_key_id", "access_key_secret", "access_key_secret_file"}));
    AlidnsProvider a;
    if (auto z = need_ok(read_zone(ctx, *o, record_name))) a.zone = *z;
    if (auto id = need_ok(o->non_empty_string("access_key_id", Need::kRequired))) {
      a.access_key_id = *id;
    }
    if (auto s = need_ok(o->secret("access_key_secret"))) a.access_key_secret = *s;
    p.settings = a;
  } else if (*kind == "dnspod") {
    o.emplace(ctx, j, path, keys({"zone", "secret_id", "secret_key", "secret_key_file"}));
    DnspodProvider d;
    if (auto z = need_ok(read_zone(ctx, *o, record_name))) d.zone = *z;
    if (auto id = need_ok(o->non_empty_string("secret_id", Need::kRequired))) d.secret_id = *id;
    if (auto s = need_ok(o->secret("secret_key"))) d.secret_key = *s;
    p.settings = d;
  } else if (*kind == "dyndns2") {
    o.emplace(ctx, j, path, keys({"server", "username", "password", "password_file"}));
    Dyndns2Provider d;
    if (auto s = need_ok(read_url(ctx, *o, "server", Need::kRequired))) d.server = *s;
    if (auto u = need_ok(o->non_empty_string("username", Need::kRequired))) d.username = *u;
    if (auto s = need_ok(o->secret("password"))) d.password = *s;
    p.settings = d;
  } else if (*kind == "rfc2136") {
    o.emplace(
        ctx, j, path,
        keys({"zone", "server", "key_name", "key_algorithm", "key_secret", "key_secret_file"}));
    Rfc2136Provider r;
    if (auto z = need_ok(read_zone(ctx, *o, record_name))) r.zone = *z;
    if (auto s = need_ok(o->non_empty_string("server", Need::kRequired))) {
      auto hp = parse_host_port(*s, 53);
      if (!hp || !is_ip_address(hp->host)) {
        ctx.error(o->at("server"),
                  fmt::format("\"{}\" is not an IP address with an optional port", *s));
        good = false;
      } else {
        r.server = *s;
      }
    }
    if (auto k = need_ok(o->non_empty_string("key_name", Need::kRequired))) {
      if (!is_dns_name(strip_final_dot(*k))) {
        ctx.error(o->at("key_name"), fmt::format("\"{}\" is not a valid DNS name", *k));
        good = false;
      }
      r.key_name = strip_final_dot(*k);
    }
    if (auto a = o->choice("key_algorithm", "TSIG algorithm", kTsigAlgorithms)) {
      r.key_algorithm = *a;
    } else if (o->has("key_algorithm")) {
      good = false;
    }
    if (auto s = need_ok(o->secret("key_secret"))) {
      if (!is_base64(s->reveal())) {
        ctx.error(o->at(o->has("key_secret") ? "key_secret" : "key_secret_file"),
                  "the TSIG secret is not base64 (copy the secret from tsig-keygen's output)");
        good = false;
      }
      r.key_secret = *s;
    }
    p.settings = r;
  } else {  // powerdns
    o.emplace(ctx, j, path, keys({"zone", "url", "server_id", "api_key", "api_key_file"}));
    PowerdnsProvider d;
    if (auto z = need_ok(read_zone(ctx, *o, record_name))) d.zone = *z;
    if (auto u = need_ok(read_url(ctx, *o, "url", Need::kRequired))) d.url = *u;
    if (auto s = o->non_empty_string("server_id")) d.server_id = *s;
    if (auto s = need_ok(o->secret("api_key"))) d.api_key = *s;
    p.settings = d;
  }
  if (o->has("endpoint")) {
    if (*kind == "dyndns2" || *kind == "rfc2136" || *kind == "powerdns") {
      ctx.error(
          o->at("endpoint"),
          fmt::format("\"endpoint\" does not apply to {}; its address is set by \"{}\"", *kind,
                      *kind == "dyndns2"   ? "server"
                      : *kind == "rfc2136" ? "server"
                                           : "url"));
      good = false;
    } else if (auto e = read_url(ctx, *o, "endpoint", Need::kOptional)) {
      p.endpoint = *e;
    } else {
      good = false;
    }
  }
  if (auto ca = o->non_empty_string("ca_file")) p.ca_file = ctx.resolve(*ca);
  if (!good) return std::nullopt;
  return p;
}

std::optional<RecordConfig> read_record(Context& ctx, const json& j, const std::string& path) {
  Object o(ctx, &j, path, {"name", "type", "ttl", "addresses", "provider"});
  if (!o.ok()) return std::nullopt;
  RecordConfig r;
  bool good = true;
  if (auto n = o.non_empty_string("name", Need::kRequired)) {
    r.name = strip_final_dot(*n);
    if (!is_dns_name(r.name)) {
      ctx.error(o.at("name"), fmt::format("\"{}\" is not a valid DNS name", *n));
      good = false;
    }
  } else {
    good = false;
  }
  if (auto t = o.choice("type", "record type", kRecordTypes, Need::kRequired)) {
    r.type = *t == "A" ? RecordType::kA : RecordType::kAAAA;
  } else {
    good = false;
  }
  if (o.has("ttl")) {
    if (auto ttl = o.integer("ttl", 1, 86400)) {
      r.ttl = static_cast<int>(*ttl);
    } else {
      good = false;
    }
  }
  if (o.has("addresses")) {
    if (auto list = o.string_list("addresses", Need::kRequired, /*allow_empty=*/false)) {
      r.use_detected = false;
      for (size_t i = 0; i < list->size(); ++i) {
        const std::string& a = (*list)[i];
        const std::string ipath = o.at("addresses") + "/" + std::to_string(i);
        const bool v4 = is_ipv4_address(a);
        if (a == kDetectedAddress) {
          if (r.use_detected) {
            ctx.error(ipath, "\"detected\" is listed twice");
            good = false;
          }
          r.use_detected = true;
        } else if (!v4 && !is_ipv6_address(a)) {
          ctx.error(ipath, fmt::format("\"{}\" is neither \"detected\" (the trusted public "
                                       "address) nor an IP address",
                                       a));
          good = false;
        } else if ((r.type == RecordType::kA) != v4) {
          ctx.error(ipath,
                    fmt::format("\"{}\" is not an {} address, as a record of type {} needs", a,
                                r.type == RecordType::kA ? "IPv4" : "IPv6", to_string(r.type)));
          good = false;
        } else {
          r.fixed_addresses.push_back(canonical_ip(a));
        }
      }
      std::sort(r.fixed_addresses.begin(), r.fixed_addresses.end());
      if (std::adjacent_find(r.fixed_addresses.begin(), r.fixed_addresses.end()) !=
          r.fixed_addresses.end()) {
        ctx.error(o.at("addresses"), "an address is listed twice");
        good = false;
      }
    } else {
      good = false;
    }
  }
  const json* pj = o.need("provider", Need::kRequired);
  if (!pj) return std::nullopt;
  auto provider = read_provider(ctx, pj, o.at("provider"), good ? r.name : std::string());
  if (!provider || !good) return std::nullopt;
  r.provider = std::move(*provider);
  return r;
}

std::optional<CustomResolver> read_custom_resolver(Context& ctx, const json& j,
                                                   const std::string& path) {
  Object o(ctx, &j, path,
           {"id", "address", "name", "operator", "geo", "transport", "recursion", "rate_limit",
            "max_in_flight"});
  if (!o.ok()) return std::nullopt;
  CustomResolver r;
  bool good = true;
  if (auto id = o.non_empty_string("id", Need::kRequired)) {
    if (*id == "bootstrap" || id->rfind("auth:", 0) == 0) {
      ctx.error(o.at("id"), fmt::format("\"{}\" is reserved for ddnswatch's own resolvers; "
                                        "choose another id",
                                        *id));
      good = false;
    } else if (!is_identifier(*id)) {
      ctx.error(o.at("id"),
                fmt::format("\"{}\" is not a valid id; use letters, digits, '-' and '_'", *id));
      good = false;
    }
    r.id = *id;
  } else {
    good = false;
  }
  if (auto a = o.non_empty_string("address", Need::kRequired)) {
    auto hp = parse_host_port(*a, 53);
    if (!hp || !is_ip_address(hp->host)) {
      ctx.error(o.at("address"),
                fmt::format("\"{}\" is not an IP address with an optional port", *a));
      good = false;
    }
    r.address = *a;
  } else {
    good = false;
  }
  r.name = o.string("name").value_or(r.id);
  r.operator_name = o.string("operator").value_or("");
  r.geo = o.string("geo").value_or("");
  if (auto t = o.choice("transport", "transport", kTransports)) r.transport = *t;
  if (auto rec = o.boolean("recursion")) r.recursion = *rec;
  if (o.has("rate_limit")) {
    if (auto v = o.integer("rate_limit", 0, 100000)) r.rate_limit = static_cast<int>(*v);
  }
  if (o.has("max_in_flight")) {
    if (auto v = o.integer("max_in_flight", 1, 1000)) r.max_in_flight = static_cast<int>(*v);
  }
  if (!good) return std::nullopt;
  return r;
}

ResolversConfig read_resolvers(Context& ctx, const json* j, const std::string& path) {
  ResolversConfig rc;
  Object o(ctx, j, path,
           {"catalog", "sets", "custom", "timeout", "tries", "rate_limit", "bootstrap",
            "authoritative_port"});
  if (!o.ok()) return rc;
  if (auto c = o.non_empty_string("catalog")) rc.catalog = ctx.resolve(*c);
  if (auto d = o.duration("timeout", std::chrono::milliseconds(100))) rc.timeout = *d;
  if (o.has("tries")) {
    if (auto v = o.integer("tries", 1, 10)) rc.tries = static_cast<int>(*v);
  }
  if (o.has("rate_limit")) {
    if (auto v = o.integer("rate_limit", 1, 100000)) rc.rate_limit = static_cast<int>(*v);
  }
  if (auto b = o.non_empty_string("bootstrap")) rc.bootstrap = *b;
  if (o.has("authoritative_port")) {
    if (auto v = o.integer("authoritative_port", 1, 65535)) {
      rc.authoritative_port = static_cast<uint16_t>(*v);
    }
  }
  rc.custom = read_array<CustomResolver>(
      ctx, o, "custom",
      [&](const json& e, const std::string& p) { return read_custom_resolver(ctx, e, p); });
  std::map<std::string, size_t> ids;
  for (size_t i = 0; i < rc.custom.size(); ++i) {
    if (!ids.emplace(rc.custom[i].id, i).second) {
      ctx.error(o.at("custom") + "/" + std::to_string(i) + "/id",
                fmt::format("duplicate resolver id \"{}\"", rc.custom[i].id));
    }
  }
  if (const json* sets = o.get("sets")) {
    if (!sets->is_object()) {
      ctx.error(o.at("sets"), "expected an object of named lists, got " + describe_type(*sets));
    } else {
      for (const auto& [name, members] : sets->items()) {
        std::string spath = o.at("sets") + "/" + pointer_token(name);
        if (!is_identifier(name)) {
          ctx.error(spath, fmt::format("\"{}\" is not a valid set name; use letters, digits, '-' "
                                       "and '_'",
                                       name));
          continue;
        }
        if (name == "authoritative") {
          ctx.error(spath, "\"authoritative\" is a built-in set and cannot be redefined");
          continue;
        }
        if (ids.count(name)) {
          ctx.error(spath, fmt::format("set name \"{}\" is also a resolver id; rename one", name));
          continue;
        }
        if (!members.is_array() || members.empty()) {
          ctx.error(spath, "expected a non-empty array of resolver ids or set names");
          continue;
        }
        std::vector<std::string> list;
        for (size_t i = 0; i < members.size(); ++i) {
          if (auto s = Object::string_value(ctx, members[i], spath + "/" + std::to_string(i))) {
            list.push_back(*s);
          }
        }
        rc.sets.emplace(name, std::move(list));
      }
    }
  }
  return rc;
}

std::optional<WatchConfig> read_watch(Context& ctx, const json& j, const std::string& path) {
  Object o(ctx, &j, path, {"name", "type", "expect", "resolvers", "interval", "fast_interval"});
  if (!o.ok()) return std::nullopt;
  WatchConfig w;
  bool good = true;
  if (auto n = o.non_empty_string("name", Need::kRequired)) {
    w.name = strip_final_dot(*n);
    if (!is_dns_name(w.name)) {
      ctx.error(o.at("name"), fmt::format("\"{}\" is not a valid DNS name", *n));
      good = false;
    }
  } else {
    good = false;
  }
  if (auto t = o.choice("type", "record type", kRecordTypes, Need::kRequired)) {
    w.type = *t == "A" ? RecordType::kA : RecordType::kAAAA;
  } else {
    good = false;
  }
  if (const json* e = o.need("expect", Need::kRequired)) {
    if (e->is_string()) {
      auto s = Object::string_value(ctx, *e, o.at("expect"));
      if (s == "record") {
        w.expect = WatchConfig::Expect::kRecord;
      } else if (s == "authoritative") {
        w.expect = WatchConfig::Expect::kAuthoritative;
      } else if (s) {
        auto near = did_you_mean(*s, {"record", "authoritative"});
        ctx.error(o.at("expect"),
                  fmt::format("\"{}\" is not an expectation{}; use \"record\", \"authoritative\" "
                              "or a list of addresses",
                              *s, near ? fmt::format(" (did you mean \"{}\"?)", *near) : ""));
        good = false;
      }
    } else if (e->is_array()) {
      w.expect = WatchConfig::Expect::kFixed;
      auto list = o.string_list("expect", Need::kRequired, /*allow_empty=*/false);
      if (!list) {
        good = false;
      } else {
        for (size_t i = 0; i < list->size(); ++i) {
          const std::string& ip = (*list)[i];
          bool v4 = is_ipv4_address(ip);
          bool v6 = is_ipv6_address(ip);
          std::string ipath = o.at("expect") + "/" + std::to_string(i);
          if (!v4 && !v6) {
            ctx.error(ipath, fmt::format("\"{}\" is not an IP address", ip));
            good = false;
          } else if (good && (w.type == RecordType::kA) != v4) {
            ctx.error(ipath, fmt::format("\"{}\" is not an {} address", ip,
                                         w.type == RecordType::kA ? "IPv4" : "IPv6"));
            good = false;
          }
        }
        // Canonical text, as answers are printed: "2001:DB8::1" must match "2001:db8::1".
        for (const auto& ip : *list) w.expected_addresses.push_back(canonical_ip(ip));
      }
    } else {
      ctx.error(o.at("expect"),
                "expected \"record\", \"authoritative\" or a list of addresses, "
                "got " +
                    describe_type(*e));
      good = false;
    }
  } else {
    good = false;
  }
  if (auto r = o.string_list("resolvers", Need::kRequired, /*allow_empty=*/false)) {
    w.resolvers = *r;
  } else {
    good = false;
  }
  if (o.has("interval")) {
    if (auto d = o.duration("interval", std::chrono::seconds(1))) {
      w.interval = *d;
    } else {
      good = false;
    }
  }
  if (o.has("fast_interval")) {
    if (auto d = o.duration("fast_interval", std::chrono::seconds(1))) {
      w.fast_interval = *d;
    } else {
      good = false;
    }
  }
  if (!good) return std::nullopt;
  return w;
}

// Reports every {{placeholder}} in the strings of `j` that is not a notification field.
bool check_template(Context& ctx, const json& j, const std::string& path) {
  bool good = true;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items())
      good &= check_template(ctx, v, path + "/" + pointer_token(k));
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      good &= check_template(ctx, j[i], path + "/" + std::to_string(i));
  } else if (j.is_string()) {
    const auto& text = j.get_ref<const std::string&>();
    for (size_t open = text.find("{{"); open != std::string::npos;
         open = text.find("{{", open + 2)) {
      size_t close = text.find("}}", open + 2);
      if (close == std::string::npos) {
        ctx.error(path, "a \"{{\" is not closed by \"}}\"");
        return false;
      }
      std::string field = text.substr(open + 2, close - open - 2);
      if (std::find(kTemplateFields.begin(), kTemplateFields.end(), field) ==
          kTemplateFields.end()) {
        ctx.error(path, unknown_value("placeholder", field, kTemplateFields));
        good = false;
      }
    }
  }
  return good;
}

std::optional<WebhookConfig> read_webhook(Context& ctx, const json& j, const std::string& path,
                                          size_t index) {
  Object o(
      ctx, &j, path,
      {"name", "url", "url_file", "preset", "body", "events", "headers", "secret", "secret_file"});
  if (!o.ok()) return std::nullopt;
  WebhookConfig w;
  bool good = true;
  w.name = "webhook-" + std::to_string(index);
  if (auto n = o.non_empty_string("name")) {
    if (!is_identifier(*n)) {
      ctx.error(o.at("name"), fmt::format("\"{}\" is not a valid name; use letters, digits, "
                                          "'-', '_' and '.'",
                                          *n));
      good = false;
    } else if (*n == "alertmanager") {
      ctx.error(o.at("name"), "\"alertmanager\" names the Alertmanager sink; choose another name");
      good = false;
    }
    w.name = *n;
  } else if (o.has("name")) {
    good = false;
  }
  if (const json* body = o.get("body")) {
    if (!body->is_object() && !body->is_array()) {
      ctx.error(o.at("body"),
                "expected a JSON object (the message body, with {{placeholders}} "
                "in its strings), got " +
                    describe_type(*body));
      good = false;
    } else if (check_template(ctx, *body, o.at("body"))) {
      w.body_template = body->dump();
    } else {
      good = false;
    }
  }
  if (o.has("secret") || o.has("secret_file")) {
    if (auto s = o.secret("secret")) {
      w.secret = *s;
    } else {
      good = false;
    }
  }
  if (auto u = o.secret("url")) {
    if (!is_http_url(u->reveal())) {
      // The URL may hold a token: say what is wrong without repeating it.
      ctx.error(o.at(o.has("url") ? "url" : "url_file"), "is not an http:// or https:// URL");
      good = false;
    }
    w.url = *u;
  } else {
    good = false;
  }
  if (auto p = o.choice("preset", "webhook preset", kWebhookPresets)) {
    w.preset = *p;
  } else if (o.has("preset")) {
    good = false;
  }
  if (w.secret && w.preset != "dingtalk" && w.preset != "feishu") {
    ctx.error(o.at(o.has("secret") ? "secret" : "secret_file"),
              "only the dingtalk and feishu presets sign their messages; remove it or set "
              "\"preset\"");
    good = false;
  }
  if (auto events = o.string_list("events", Need::kOptional, /*allow_empty=*/false)) {
    for (size_t i = 0; i < events->size(); ++i) {
      if (std::find(kEvents.begin(), kEvents.end(), (*events)[i]) == kEvents.end()) {
        ctx.error(o.at("events") + "/" + std::to_string(i),
                  unknown_value("event", (*events)[i], kEvents));
        good = false;
      }
    }
    w.events = *events;
  } else if (o.has("events")) {
    good = false;
  }
  if (const json* h = o.get("headers")) {
    if (!h->is_object()) {
      ctx.error(o.at("headers"),
                "expected an object of header names and values, got " + describe_type(*h));
      good = false;
    } else {
      for (const auto& [name, value] : h->items()) {
        std::string hpath = o.at("headers") + "/" + pointer_token(name);
        if (!is_header_name(name)) {
          ctx.error(hpath, fmt::format("\"{}\" is not a valid HTTP header name", name));
          good = false;
          continue;
        }
        if (auto s = Object::string_value(ctx, value, hpath)) {
          w.headers.emplace(name, Secret(*s));
        } else {
          good = false;
        }
      }
    }
  }
  if (!good) return std::nullopt;
  return w;
}

std::optional<fs::path> readable_file(Context& ctx, Object& o, const std::string& key);

NotifyConfig read_notify(Context& ctx, const json* j, const std::string& path) {
  NotifyConfig n;
  Object o(ctx, j, path, {"webhooks", "alertmanager", "ca_file"});
  if (!o.ok()) return n;
  size_t index = 0;
  n.webhooks = read_array<WebhookConfig>(
      ctx, o, "webhooks",
      [&](const json& e, const std::string& p) { return read_webhook(ctx, e, p, index++); });
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < n.webhooks.size(); ++i) {
    auto [it, fresh] = seen.emplace(n.webhooks[i].name, i);
    if (!fresh) {
      ctx.error(o.at("webhooks"),
                fmt::format("two webhooks are named \"{}\"; give each a distinct \"name\"",
                            n.webhooks[i].name));
    }
  }
  if (o.has("alertmanager")) n.alertmanager = read_url(ctx, o, "alertmanager", Need::kOptional);
  if (o.has("ca_file")) n.ca_file = readable_file(ctx, o, "ca_file");
  return n;
}

std::optional<BasicAuthConfig> read_basic_auth(Context& ctx, const json* j,
                                               const std::string& path) {
  Object b(ctx, j, path, {"username", "password", "password_file"});
  if (!b.ok()) return std::nullopt;
  auto user = b.non_empty_string("username", Need::kRequired);
  if (user && user->find(':') != std::string::npos) {
    ctx.error(b.at("username"),
              "must not contain ':' (HTTP basic auth separates it from the "
              "password with one)");
    user.reset();
  }
  auto password = b.secret("password");
  if (!user || !password) return std::nullopt;
  return BasicAuthConfig{*user, *password};
}

// The path at `key`, resolved, of a file the daemon itself reads later (not a secret: the
// file is not read here). It must be readable now, so that `check` catches a typo or a
// permission problem before a restart does.
std::optional<fs::path> readable_file(Context& ctx, Object& o, const std::string& key) {
  auto value = o.non_empty_string(key, Need::kRequired);
  if (!value) return std::nullopt;
  fs::path path = ctx.resolve(*value);
  std::error_code ec;
  int err = 0;
  if (fs::is_directory(path, ec)) {
    err = EISDIR;
  } else {
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) err = errno != 0 ? errno : EACCES;
  }
  if (err != 0) {
    ctx.error(o.at(key), fmt::format("cannot read \"{}\": {}", path.string(),
                                     std::strerror(err)));  // NOLINT(concurrency-mt-unsafe)
    return std::nullopt;
  }
  return path;
}

std::optional<TlsConfig> read_tls(Context& ctx, const json* j, const std::string& path) {
  Object o(ctx, j, path, {"cert_file", "key_file"});
  if (!o.ok()) return std::nullopt;
  auto cert = readable_file(ctx, o, "cert_file");
  auto key = readable_file(ctx, o, "key_file");
  if (!cert || !key) return std::nullopt;
  return TlsConfig{*cert, *key};
}

UpdateConfig read_update(Context& ctx, const json* j, const std::string& path) {
  UpdateConfig u;
  Object o(ctx, j, path,
           {"min_interval", "cooldown", "max_interval", "error_interval", "max_backoff"});
  if (!o.ok()) return u;
  if (auto d = o.duration("min_interval", std::chrono::seconds(1))) u.min_interval = *d;
  if (auto d = o.duration("cooldown", Duration::zero())) u.cooldown = *d;
  if (auto d = o.duration("max_interval", std::chrono::minutes(1))) u.max_interval = *d;
  if (auto d = o.duration("error_interval", std::chrono::seconds(1))) u.error_interval = *d;
  if (auto d = o.duration("max_backoff", std::chrono::seconds(1))) u.max_backoff = *d;
  if (u.max_backoff < u.error_interval) {
    ctx.error(o.at("max_backoff"),
              fmt::format("\"{}\" is shorter than error_interval \"{}\"",
                          format_duration(u.max_backoff), format_duration(u.error_interval)));
  }
  return u;
}

WebConfig read_web(Context& ctx, const json* j, const std::string& path) {
  WebConfig w;
  Object o(ctx, j, path, {"basic_auth", "tls"});
  if (!o.ok()) return w;
  if (o.has("basic_auth"))
    w.basic_auth = read_basic_auth(ctx, o.get("basic_auth"), o.at("basic_auth"));
  if (o.has("tls")) w.tls = read_tls(ctx, o.get("tls"), o.at("tls"));
  return w;
}

// Checks that need more than one section.
void cross_check(Context& ctx, const Config& c) {
  std::map<std::string, size_t> record_index;
  for (size_t i = 0; i < c.records.size(); ++i) {
    auto [it, inserted] = record_index.emplace(c.records[i].id(), i);
    if (!inserted) {
      ctx.error(
          "/records/" + std::to_string(i),
          fmt::format("duplicate record {} (also at /records/{})", c.records[i].id(), it->second));
    }
  }
  std::set<std::string> watched;
  for (size_t i = 0; i < c.watch.size(); ++i) {
    const WatchConfig& w = c.watch[i];
    std::string id = w.name + "/" + to_string(w.type);
    if (!watched.insert(id).second) {
      ctx.error("/watch/" + std::to_string(i), fmt::format("{} is watched twice", id));
    }
    if (w.expect == WatchConfig::Expect::kRecord && !record_index.count(id)) {
      ctx.error("/watch/" + std::to_string(i) + "/expect",
                fmt::format("\"record\" needs a record {} of type {} in /records", w.name,
                            to_string(w.type)));
    }
  }
  for (const auto& [name, members] : c.resolvers.sets) {
    for (size_t i = 0; i < members.size(); ++i) {
      if (members[i] == name) {
        ctx.error("/resolvers/sets/" + pointer_token(name) + "/" + std::to_string(i),
                  fmt::format("set \"{}\" includes itself", name));
      }
    }
  }
}

Config read_root(Context& ctx, const json& doc, const fs::path& source) {
  Config c;
  c.source = source;
  Object root(ctx, &doc, "",
              {"$schema", "listen", "state_dir", "log", "detect", "update", "records", "resolvers",
               "watch", "notify", "web"});
  if (!root.ok()) return c;
  if (auto l = read_listen(ctx, root)) c.listen = *l;
  if (auto s = root.non_empty_string("state_dir")) c.state_dir = ctx.resolve(*s);
  if (root.has("log")) {
    Object log(ctx, root.get("log"), root.at("log"), {"level", "format"});
    if (auto l = log.choice("level", "log level", kLogLevels)) c.log.level = *l;
    if (auto f = log.choice("format", "log format", kLogFormats)) c.log.format = *f;
  }
  if (root.has("detect")) c.detect = read_detect(ctx, root.get("detect"), root.at("detect"));
  if (root.has("update")) c.update = read_update(ctx, root.get("update"), root.at("update"));
  c.records = read_array<RecordConfig>(
      ctx, root, "records",
      [&](const json& e, const std::string& p) { return read_record(ctx, e, p); });
  if (root.has("resolvers")) {
    c.resolvers = read_resolvers(ctx, root.get("resolvers"), root.at("resolvers"));
  }
  c.watch = read_array<WatchConfig>(ctx, root, "watch", [&](const json& e, const std::string& p) {
    return read_watch(ctx, e, p);
  });
  if (root.has("notify")) c.notify = read_notify(ctx, root.get("notify"), root.at("notify"));
  if (root.has("web")) c.web = read_web(ctx, root.get("web"), root.at("web"));
  if (ctx.errors.empty()) cross_check(ctx, c);
  return c;
}

// nlohmann's parse errors quote the text they stopped at, which may be part of a secret;
// keep only the line, the column and what was expected.
std::string syntax_message(const nlohmann::json::parse_error& e, std::string_view text) {
  size_t line = 1;
  size_t column = 1;
  size_t end = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  std::string what = e.what();
  static const std::regex kPrefix(
      R"(^\[json\.exception\.parse_error\.\d+\] parse error( at line \d+, column \d+)?: )");
  static const std::regex kLastRead(R"(; last read: '.*'(?=;|$))");
  what = std::regex_replace(what, kPrefix, "");
  what = std::regex_replace(what, kLastRead, "");
  return fmt::format("line {}, column {}: {}", line, column, what);
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    // Reading the environment is safe: nothing in the process sets variables after start-up.
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

LoadResult parse_config(std::string_view text, const fs::path& source, const EnvLookup& env) {
  fs::path absolute = source.empty() ? fs::current_path() / "config.json" : fs::absolute(source);
  Context ctx(absolute.parent_path(), env);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return tl::unexpected(std::vector<Diagnostic>{{"", syntax_message(e, text)}});
  } catch (const json::out_of_range&) {
    // The only one the parser throws: a number beyond a double's range, such as 1e999. Its
    // text is not quoted back (it could sit next to a secret).
    return tl::unexpected(std::vector<Diagnostic>{
        {"",
         "a number in the file is too large for JSON's numbers (beyond ±1.8e308); write "
         "a smaller one"}});
  }
  Config c = read_root(ctx, doc, absolute);
  if (!ctx.errors.empty()) return tl::unexpected(std::move(ctx.errors));
  return c;
}

LoadResult load_config(const fs::path& path, const EnvLookup& env) {
  auto text = read_file(path);
  if (!text) return tl::unexpected(std::vector<Diagnostic>{{"", text.error().message}});
  return parse_config(*text, path, env);
}

std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string w = lower(word);
  size_t best = std::string::npos;
  std::optional<std::string> best_word;
  for (const auto& candidate : candidates) {
    const std::string c = lower(candidate);
    // Levenshtein distance, case-insensitive, with transpositions counted as one edit.
    std::vector<std::vector<size_t>> d(w.size() + 1, std::vector<size_t>(c.size() + 1));
    for (size_t i = 0; i <= w.size(); ++i) d[i][0] = i;
    for (size_t k = 0; k <= c.size(); ++k) d[0][k] = k;
    for (size_t i = 1; i <= w.size(); ++i) {
      for (size_t k = 1; k <= c.size(); ++k) {
        size_t cost = w[i - 1] == c[k - 1] ? 0 : 1;
        d[i][k] = std::min({d[i - 1][k] + 1, d[i][k - 1] + 1, d[i - 1][k - 1] + cost});
        if (i > 1 && k > 1 && w[i - 1] == c[k - 2] && w[i - 2] == c[k - 1]) {
          d[i][k] = std::min(d[i][k], d[i - 2][k - 2] + 1);
        }
      }
    }
    size_t dist = d[w.size()][c.size()];
    if (dist < best) {
      best = dist;
      best_word = candidate;
    }
  }
  // Close enough to be a typo: a third of the longer word, at least one edit, at most three.
  if (!best_word) return std::nullopt;
  size_t limit = std::clamp<size_t>(std::max(w.size(), best_word->size()) / 3, 1, 3);
  if (best > limit) return std::nullopt;
  return best_word;
}

namespace {

// detect sources: the pieces of parse_ip_source.

using SourceResult = tl::expected<IpSourceSpec, std::string>;

SourceResult http_source(std::string url, IpSourceSpec::Format format) {
  IpSourceSpec s;
  s.kind = IpSourceSpec::Kind::kHttp;
  s.url = std::move(url);
  s.format = format;
  return s;
}

SourceResult dns_source(std::string name, std::string server, std::string type, bool chaos,
                        bool recursion) {
  IpSourceSpec s;
  s.kind = IpSourceSpec::Kind::kDns;
  s.dns_name = std::move(name);
  s.dns_server = std::move(server);
  s.dns_type = std::move(type);
  s.dns_chaos = chaos;
  s.dns_recursion = recursion;
  return s;
}

const char* family_name(bool ipv6) { return ipv6 ? "IPv6" : "IPv4"; }

// The host of an http(s) URL, brackets removed: "127.0.0.1", "::1", "ip.example".
std::string url_host(std::string_view url) {
  url.remove_prefix(url.find("://") + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (size_t at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  if (!url.empty() && url.front() == '[') return std::string(url.substr(1, url.find(']') - 1));
  return std::string(url.substr(0, url.find(':')));
}

SourceResult url_source(const std::string& arg, bool ipv6) {
  std::string url = arg;
  IpSourceSpec::Format format = IpSourceSpec::Format::kAuto;
  if (size_t hash = url.find('#'); hash != std::string::npos) {
    const std::string name = url.substr(hash + 1);
    url.resize(hash);
    if (name == "text") {
      format = IpSourceSpec::Format::kText;
    } else if (name == "json") {
      format = IpSourceSpec::Format::kJson;
    } else if (name == "trace") {
      format = IpSourceSpec::Format::kTrace;
    } else {
      return tl::unexpected(
          unknown_value("answer format", "#" + name, {"#text", "#json", "#trace"}));
    }
  }
  if (!is_http_url(url)) {
    return tl::unexpected(fmt::format("\"{}\" is not an http:// or https:// URL", url));
  }
  const std::string host = url_host(url);
  if (ipv6 ? is_ipv4_address(host) : is_ipv6_address(host)) {
    return tl::unexpected(
        fmt::format("the URL's host {} is an {} address, but {} sources are asked over {}", host,
                    family_name(!ipv6), ipv6 ? "ipv6" : "ipv4", family_name(ipv6)));
  }
  if (format == IpSourceSpec::Format::kAuto) {
    std::string_view path(url);
    path = path.substr(0, path.find('?'));
    if (path.ends_with("/cdn-cgi/trace")) format = IpSourceSpec::Format::kTrace;
  }
  return http_source(std::move(url), format);
}

// dns:NAME@SERVER[:PORT][/TYPE][/CH]
SourceResult dns_spec(const std::string& arg, bool ipv6) {
  const size_t slash = arg.find('/');
  const std::string head = arg.substr(0, slash);
  const size_t at = head.find('@');
  if (at == std::string::npos) {
    return tl::unexpected(
        fmt::format("\"dns:{}\" names no server; write dns:NAME@SERVER[:PORT][/TYPE][/CH], e.g. "
                    "dns:myip.opendns.com@208.67.222.222",
                    arg));
  }
  const std::string name = strip_final_dot(head.substr(0, at));
  if (!is_dns_name(name)) {
    return tl::unexpected(fmt::format("\"{}\" is not a valid DNS name", head.substr(0, at)));
  }
  auto server = parse_host_port(head.substr(at + 1), 53);
  if (!server) return tl::unexpected("the server " + server.error());
  if (!is_ip_address(server->host)) {
    return tl::unexpected(fmt::format(
        "the server \"{}\" must be an IP address: nothing is looked up before detection",
        server->host));
  }
  std::string type = ipv6 ? "AAAA" : "A";
  bool type_given = false;
  bool chaos = false;
  if (slash != std::string::npos) {
    std::string_view rest = std::string_view(arg).substr(slash + 1);
    for (;;) {
      const size_t next = rest.find('/');
      std::string option(rest.substr(0, next));
      for (char& c : option) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (option == "A" || option == "AAAA" || option == "TXT") {
        if (type_given) return tl::unexpected(std::string("the query type is given twice"));
        type_given = true;
        type = option;
      } else if (option == "CH") {
        chaos = true;
      } else if (option != "IN") {
        return tl::unexpected(unknown_value("dns source option", std::string(rest.substr(0, next)),
                                            {"A", "AAAA", "TXT", "CH", "IN"}));
      }
      if (next == std::string_view::npos) break;
      rest.remove_prefix(next + 1);
    }
  }
  if (type == (ipv6 ? "A" : "AAAA")) {
    return tl::unexpected(
        fmt::format("/{} asks for {} addresses; an {} source asks for /{} or /TXT", type,
                    family_name(!ipv6), ipv6 ? "ipv6" : "ipv4", ipv6 ? "AAAA" : "A"));
  }
  auto spec = dns_source(name, server->host, type, chaos, /*recursion=*/true);
  spec->dns_port = server->port;
  return spec;
}

// interface:NAME[?policy=stable|temporary][&suffix=IPV6][&prefix_length=N]
SourceResult interface_spec(const std::string& arg, bool ipv6) {
  IpSourceSpec s;
  s.kind = IpSourceSpec::Kind::kInterface;
  const size_t question = arg.find('?');
  s.interface = arg.substr(0, question);
  if (s.interface.empty() || s.interface.size() > 15 ||
      s.interface.find_first_of("/ \t&=") != std::string::npos) {
    return tl::unexpected(fmt::format(
        "\"{}\" is not an interface name (1 to 15 characters, no '/' or spaces)", s.interface));
  }
  if (question == std::string::npos) return s;
  if (!ipv6) {
    return tl::unexpected(std::string(
        "interface options (policy, suffix, prefix_length) apply to ipv6 sources only"));
  }
  bool prefix_given = false;
  std::set<std::string> seen;
  std::string_view rest = std::string_view(arg).substr(question + 1);
  for (;;) {
    const size_t next = rest.find('&');
    const std::string option(rest.substr(0, next));
    const size_t eq = option.find('=');
    const std::string key = option.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : option.substr(eq + 1);
    if (key != "policy" && key != "suffix" && key != "prefix_length") {
      return tl::unexpected(
          unknown_value("interface option", key, {"policy", "suffix", "prefix_length"}));
    }
    if (!seen.insert(key).second) return tl::unexpected(key + " is given twice");
    if (eq == std::string::npos || value.empty()) {
      return tl::unexpected(fmt::format("{} needs a value: {}=...", key, key));
    }
    if (key == "policy") {
      if (value == "stable") {
        s.policy = IpSourceSpec::Policy::kStable;
      } else if (value == "temporary") {
        s.policy = IpSourceSpec::Policy::kTemporary;
      } else {
        return tl::unexpected(unknown_value("policy", value, {"stable", "temporary"}));
      }
    } else if (key == "suffix") {
      if (!is_ipv6_address(value)) {
        return tl::unexpected(
            fmt::format("suffix \"{}\" is not an IPv6 address such as ::1234", value));
      }
      s.suffix = canonical_ip(value);
    } else {
      int n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size() || n < 1 || n > 127) {
        return tl::unexpected(
            fmt::format("prefix_length \"{}\" is not an integer from 1 to 127", value));
      }
      s.prefix_length = n;
      prefix_given = true;
    }
    if (next == std::string_view::npos) break;
    rest.remove_prefix(next + 1);
  }
  if (prefix_given && !s.suffix)
    return tl::unexpected(std::string("prefix_length applies only with suffix"));
  if (s.suffix) {
    std::array<uint8_t, 16> bytes{};
    inet_pton(AF_INET6, s.suffix->c_str(), bytes.data());
    for (int bit = 0; bit < s.prefix_length; ++bit) {
      if (bytes[static_cast<size_t>(bit / 8)] & (0x80 >> (bit % 8))) {
        return tl::unexpected(fmt::format(
            "suffix {} sets bits inside the /{} prefix; the host part must fit in the last {} "
            "bits",
            *s.suffix, s.prefix_length, 128 - s.prefix_length));
      }
    }
  }
  return s;
}

}  // namespace

tl::expected<IpSourceSpec, std::string> parse_ip_source(const std::string& text, bool ipv6) {
  using Format = IpSourceSpec::Format;
  if (text == "cloudflare-trace") {
    return http_source(
        ipv6 ? "https://[2606:4700:4700::1111]/cdn-cgi/trace" : "https://1.1.1.1/cdn-cgi/trace",
        Format::kTrace);
  }
  if (text == "ipify") {
    return http_source(ipv6 ? "https://api6.ipify.org" : "https://api.ipify.org", Format::kText);
  }
  if (text == "icanhazip") {
    return http_source(ipv6 ? "https://ipv6.icanhazip.com" : "https://ipv4.icanhazip.com",
                       Format::kText);
  }
  if (text == "ifconfig-me") return http_source("https://ifconfig.me/ip", Format::kText);
  if (text == "aws-checkip") {
    if (ipv6)
      return tl::unexpected(
          std::string("aws-checkip has no IPv6 endpoint; list it under ipv4 only"));
    return http_source("https://checkip.amazonaws.com", Format::kText);
  }
  if (text == "opendns-dns") {
    return dns_source("myip.opendns.com", ipv6 ? "2620:119:35::35" : "208.67.222.222",
                      ipv6 ? "AAAA" : "A", /*chaos=*/false, /*recursion=*/true);
  }
  if (text == "cloudflare-dns") {
    return dns_source("whoami.cloudflare", ipv6 ? "2606:4700:4700::1111" : "1.1.1.1", "TXT",
                      /*chaos=*/true, /*recursion=*/true);
  }
  if (text == "google-dns") {
    // ns1.google.com, an authoritative server: it answers with the address that asked.
    return dns_source("o-o.myaddr.l.google.com", ipv6 ? "2001:4860:4802:32::a" : "216.239.32.10",
                      "TXT", /*chaos=*/false, /*recursion=*/false);
  }
  for (const auto& prefix : kIpSourcePrefixes) {
    if (text.rfind(prefix, 0) != 0) continue;
    const std::string arg = text.substr(prefix.size());
    if (arg.empty())
      return tl::unexpected(fmt::format("\"{}\" needs a value after the colon", text));
    if (prefix == "url:") return url_source(arg, ipv6);
    if (prefix == "dns:") return dns_spec(arg, ipv6);
    if (prefix == "interface:") return interface_spec(arg, ipv6);
    // static:
    if (!is_ip_address(arg)) return tl::unexpected(fmt::format("\"{}\" is not an IP address", arg));
    if (ipv6 != is_ipv6_address(arg)) {
      return tl::unexpected(fmt::format("{} is an {} address, but this list is for {}", arg,
                                        family_name(!ipv6), family_name(ipv6)));
    }
    IpSourceSpec s;
    s.kind = IpSourceSpec::Kind::kStatic;
    s.address = canonical_ip(arg);
    return s;
  }
  std::vector<std::string> all = kNamedIpSources;
  for (const auto& p : kIpSourcePrefixes) all.push_back(p + "...");
  return tl::unexpected(unknown_value("IP source", text, all));
}

tl::expected<IpRange, std::string> parse_ip_range(const std::string& text) {
  IpRange r;
  const size_t slash = text.find('/');
  const std::string address = text.substr(0, slash);
  if (inet_pton(AF_INET, address.c_str(), r.bytes.data()) == 1) {
    r.ipv6 = false;
  } else if (inet_pton(AF_INET6, address.c_str(), r.bytes.data()) == 1) {
    r.ipv6 = true;
  } else {
    return tl::unexpected(fmt::format(
        "\"{}\" is not an IP address or a range such as 100.64.0.0/10 or fd00::/8", text));
  }
  const int max = r.ipv6 ? 128 : 32;
  r.prefix_length = max;
  if (slash != std::string::npos) {
    const std::string_view length = std::string_view(text).substr(slash + 1);
    int n = -1;
    auto [ptr, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
    if (length.empty() || ec != std::errc() || ptr != length.data() + length.size() || n < 0 ||
        n > max) {
      return tl::unexpected(fmt::format("\"{}\": the prefix length of an {} range is 0 to {}", text,
                                        family_name(r.ipv6), max));
    }
    r.prefix_length = n;
  }
  IpRange network = r;
  for (int bit = r.prefix_length; bit < max; ++bit) {
    network.bytes[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  if (network.bytes != r.bytes) {
    return tl::unexpected(fmt::format("\"{}\" has bits set after the /{} prefix; write {}", text,
                                      r.prefix_length, network.to_string()));
  }
  return r;
}

bool IpRange::contains(bool address_is_ipv6, const std::array<uint8_t, 16>& address) const {
  if (address_is_ipv6 != ipv6) return false;
  for (int bit = 0; bit < prefix_length; ++bit) {
    const size_t i = static_cast<size_t>(bit / 8);
    const int mask = 0x80 >> (bit % 8);
    if ((bytes[i] & mask) != (address[i] & mask)) return false;
  }
  return true;
}

std::string IpRange::to_string() const {
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes.data(), out, sizeof out);
  return fmt::format("{}/{}", out, prefix_length);
}

const std::vector<std::string>& notification_fields() { return kTemplateFields; }
const std::vector<std::string>& notification_events() { return kEvents; }

}  // namespace ddnswatch::config
