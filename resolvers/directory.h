// Every resolver a config or a command line can name: the built-in catalog, the config's
// catalog file, its custom resolvers and its sets, each turned into an engine ResolverSpec with
// the labels (name, operator, geo) that metrics and tables show. Also checks the config's
// references to resolvers and sets, with JSON paths, as the config loader does for the rest.
#pragma once

#include <map>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "config/config.h"
#include "config/config_loader.h"
#include "core/result.h"
#include "resolvers/catalog.h"
#include "resolvers/dns_types.h"

namespace ddnswatch::resolvers {

/// The name of the built-in set of a zone's authoritative servers.
inline constexpr const char* kAuthoritativeSet = "authoritative";

struct NamedResolver {
  ResolverSpec spec;  // spec.id is the resolver's id
  std::string name;
  std::string operator_name;
  std::string geo;
};

/// Immutable after build; any thread may read it.
class ResolverDirectory {
 public:
  /// The built-in catalog with the config's additions, its timeouts and rate limits. Reports
  /// an unreadable catalog file, unknown names in sets and in watch[].resolvers (with "did
  /// you mean"), and sets that include each other in a cycle.
  static tl::expected<ResolverDirectory, std::vector<config::Diagnostic>> build(
      const config::Config& config);

  struct Selection {
    std::vector<NamedResolver> resolvers;  // in the order named, each once
    bool authoritative = false;            // the built-in set "authoritative" was named
  };
  /// Expands set names and resolver ids; with `allow_literals`, "ADDRESS" and
  /// "ADDRESS:PORT" / "[IPV6]:PORT" entries too (the command line's ad-hoc resolvers).
  Result<Selection> select(const std::vector<std::string>& names, bool allow_literals) const;

  const NamedResolver* find(const std::string& id) const;
  /// The recursive resolver used to find zones' authoritative servers: "system" (the host's
  /// configured resolver), a resolver id, or "ADDRESS[:PORT]". Its engine id is "bootstrap".
  Result<ResolverSpec> bootstrap(const std::string& text) const;
  /// A spec for an authoritative server found at run time: no recursion, the config's timeouts.
  ResolverSpec authoritative_spec(const std::string& id, const std::string& address,
                                  uint16_t port) const;

 private:
  Result<void> expand(const std::string& name, bool allow_literals, Selection& out,
                      std::vector<std::string>& stack) const;
  /// Every resolver id and set name, and "authoritative": the candidates of "did you mean".
  std::vector<std::string> known_names() const;
  std::map<std::string, NamedResolver> resolvers_;
  std::map<std::string, std::vector<std::string>> sets_;
  Duration timeout_ = std::chrono::seconds(2);
  int tries_ = 2;
};

}  // namespace ddnswatch::resolvers
