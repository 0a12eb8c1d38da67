#include "resolvers/directory.h"

#include <fmt/format.h>

#include <algorithm>

#include "config/validate.h"
#include "resolvers/cares_library.h"

namespace ddnswatch::resolvers {
namespace {

Transport parse_transport(const std::string& text) {
  if (text == "tcp") return Transport::kTcp;
  if (text == "udp-only") return Transport::kUdpOnly;
  return Transport::kUdp;
}

std::string unknown_message(const std::string& name, const std::vector<std::string>& known) {
  std::string text = fmt::format("unknown resolver or set \"{}\"", name);
  if (auto near = config::did_you_mean(name, known)) {
    text += fmt::format(" (did you mean \"{}\"?)", *near);
  } else {
    text +=
        "; name a resolver of the catalog or of /resolvers/custom, a set, or "
        "\"authoritative\"";
  }
  return text;
}

}  // namespace

tl::expected<ResolverDirectory, std::vector<config::Diagnostic>> ResolverDirectory::build(
    const config::Config& config) {
  std::vector<config::Diagnostic> errors;
  const config::ResolversConfig& rc = config.resolvers;
  Catalog catalog = builtin_catalog();
  if (!rc.catalog.empty()) {
    auto extra = load_catalog(rc.catalog.string());
    if (!extra) {
      errors.push_back({"/resolvers/catalog", extra.error().message});
    } else {
      catalog.merge(*extra);
    }
  }

  ResolverDirectory dir;
  dir.timeout_ = rc.timeout;
  dir.tries_ = rc.tries;
  for (const CatalogEntry& e : catalog.resolvers) {
    NamedResolver r;
    r.spec.id = e.id;
    r.spec.address = e.primary_address();
    r.spec.timeout = rc.timeout;
    r.spec.tries = rc.tries;
    // Public servers: paced, and few queries at once.
    r.spec.rate_limit = rc.rate_limit;
    r.spec.burst = rc.rate_limit;
    r.spec.max_in_flight = 20;
    r.name = e.name;
    r.operator_name = e.operator_name;
    r.geo = e.geo;
    dir.resolvers_[e.id] = std::move(r);
  }
  for (const config::CustomResolver& c : rc.custom) {
    auto hp = config::parse_host_port(c.address, 53);
    if (!hp) continue;  // the loader has reported it
    NamedResolver r;
    r.spec.id = c.id;
    r.spec.address = hp->host;
    r.spec.port = hp->port;
    r.spec.transport = parse_transport(c.transport);
    r.spec.recursion = c.recursion;
    r.spec.timeout = rc.timeout;
    r.spec.tries = rc.tries;
    r.spec.rate_limit = c.rate_limit;
    r.spec.burst = c.rate_limit;
    r.spec.max_in_flight = c.max_in_flight;
    r.name = c.name.empty() ? c.id : c.name;
    r.operator_name = c.operator_name;
    r.geo = c.geo;
    dir.resolvers_[c.id] = std::move(r);
  }
  dir.sets_ = catalog.sets;
  for (const auto& [name, members] : rc.sets) dir.sets_[name] = members;

  const std::vector<std::string> known = dir.known_names();

  // A catalog file's sets: every member known, no cycles (the built-in catalog's are tested).
  if (!rc.catalog.empty()) {
    for (const auto& [name, members] : dir.sets_) {
      if (rc.sets.count(name) != 0) continue;  // replaced by the config's own set
      Selection ignored;
      std::vector<std::string> stack;
      if (auto r = dir.expand(name, false, ignored, stack); !r) {
        errors.push_back(
            {"/resolvers/catalog",
             fmt::format("{}: set \"{}\": {}", rc.catalog.string(), name, r.error().message)});
      }
    }
  }
  // References inside the config's own sets.
  for (const auto& [name, members] : rc.sets) {
    if (dir.resolvers_.count(name) != 0) {
      errors.push_back({fmt::format("/resolvers/sets/{}", name),
                        fmt::format("set name \"{}\" is also the id of a catalog resolver; "
                                    "rename the set",
                                    name)});
      continue;
    }
    for (size_t i = 0; i < members.size(); ++i) {
      const std::string& m = members[i];
      if (m == kAuthoritativeSet || dir.resolvers_.count(m) || dir.sets_.count(m)) continue;
      errors.push_back({fmt::format("/resolvers/sets/{}/{}", name, i), unknown_message(m, known)});
    }
    Selection ignored;
    std::vector<std::string> stack;
    if (auto r = dir.expand(name, false, ignored, stack); !r && errors.empty()) {
      errors.push_back({fmt::format("/resolvers/sets/{}", name), r.error().message});
    }
  }
  for (size_t w = 0; w < config.watch.size(); ++w) {
    const auto& names = config.watch[w].resolvers;
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string& m = names[i];
      if (m == kAuthoritativeSet || dir.resolvers_.count(m) || dir.sets_.count(m)) continue;
      errors.push_back({fmt::format("/watch/{}/resolvers/{}", w, i), unknown_message(m, known)});
    }
  }
  if (rc.bootstrap != "system") {
    if (auto b = dir.bootstrap(rc.bootstrap); !b) {
      errors.push_back({"/resolvers/bootstrap", b.error().message});
    }
  }
  if (!errors.empty()) return tl::unexpected(std::move(errors));
  return dir;
}

Result<void> ResolverDirectory::expand(const std::string& name, bool allow_literals, Selection& out,
                                       std::vector<std::string>& stack) const {
  auto add = [&out](const NamedResolver& r) {
    auto same = [&](const NamedResolver& x) { return x.spec.id == r.spec.id; };
    if (std::none_of(out.resolvers.begin(), out.resolvers.end(), same)) {
      out.resolvers.push_back(r);
    }
  };
  if (name == kAuthoritativeSet) {
    out.authoritative = true;
    return {};
  }
  if (auto it = resolvers_.find(name); it != resolvers_.end()) {
    add(it->second);
    return {};
  }
  if (auto it = sets_.find(name); it != sets_.end()) {
    if (std::find(stack.begin(), stack.end(), name) != stack.end()) {
      std::string path;
      for (const auto& s : stack) path += s + " -> ";
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("sets include each other in a cycle: {}{}", path, name));
    }
    stack.push_back(name);
    for (const std::string& member : it->second) {
      if (auto r = expand(member, allow_literals, out, stack); !r) return r;
    }
    stack.pop_back();
    return {};
  }
  if (allow_literals) {
    auto hp = config::parse_host_port(name, 53);
    if (hp && config::is_ip_address(hp->host)) {
      NamedResolver r;
      r.spec.id = name;
      r.spec.address = hp->host;
      r.spec.port = hp->port;
      r.spec.timeout = timeout_;
      r.spec.tries = tries_;
      r.spec.max_in_flight = 100;
      r.name = name;
      add(r);
      return {};
    }
  }
  return make_error(ErrorCode::kInvalidArgument, unknown_message(name, known_names()) +
                                                     (allow_literals ? " or an IP address" : ""));
}

Result<ResolverDirectory::Selection> ResolverDirectory::select(
    const std::vector<std::string>& names, bool allow_literals) const {
  Selection out;
  for (const std::string& name : names) {
    std::vector<std::string> stack;
    if (auto r = expand(name, allow_literals, out, stack); !r) return tl::unexpected(r.error());
  }
  return out;
}

std::vector<std::string> ResolverDirectory::known_names() const {
  std::vector<std::string> known;
  for (const auto& [id, r] : resolvers_) known.push_back(id);
  for (const auto& [set, m] : sets_) known.push_back(set);
  known.push_back(kAuthoritativeSet);
  return known;
}

const NamedResolver* ResolverDirectory::find(const std::string& id) const {
  auto it = resolvers_.find(id);
  return it == resolvers_.end() ? nullptr : &it->second;
}

Result<ResolverSpec> ResolverDirectory::bootstrap(const std::string& text) const {
  ResolverSpec spec;
  if (auto it = resolvers_.find(text); it != resolvers_.end()) {
    spec = it->second.spec;
  } else {
    std::string address = text;
    if (text.empty() || text == "system") {
      auto system = system_resolver_address();
      if (!system) return tl::unexpected(system.error());
      address = *system;
    }
    auto hp = config::parse_host_port(address, 53);
    if (!hp || !config::is_ip_address(hp->host)) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("bootstrap resolver \"{}\" is neither \"system\", a resolver "
                                    "id, nor an IP address with an optional port",
                                    text));
    }
    spec.address = hp->host;
    spec.port = hp->port;
    spec.timeout = timeout_;
    spec.tries = tries_;
  }
  spec.id = "bootstrap";
  spec.recursion = true;
  spec.rate_limit = 0;
  spec.max_in_flight = 20;
  return spec;
}

ResolverSpec ResolverDirectory::authoritative_spec(const std::string& id,
                                                   const std::string& address,
                                                   uint16_t port) const {
  ResolverSpec spec;
  spec.id = id;
  spec.address = address;
  spec.port = port;
  spec.recursion = false;
  spec.timeout = timeout_;
  spec.tries = tries_;
  spec.max_in_flight = 20;
  return spec;
}

}  // namespace ddnswatch::resolvers
