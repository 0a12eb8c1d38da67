// The resolver catalog: public resolvers with who runs them and where, plus named sets. The
// built-in catalog is config/resolvers/public.json, compiled into the binary; a config may
// name a catalog file of the same format that adds resolvers and sets or replaces them by id.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ddnswatch::resolvers {

struct CatalogEntry {
  std::string id;
  std::string name;
  std::string operator_name;
  std::string geo;      // "global", a region such as "EU", or a country code
  std::string country;  // the operator's home country, "unknown" if not known
  std::vector<std::string> ipv4;
  std::vector<std::string> ipv6;
  std::string filtering;  // "none", "malware", ..., "unknown"
  std::string ecs;        // EDNS Client Subnet: "yes", "no", "partial", "unknown"
  /// The address the engine queries: the first IPv4 address, else the first IPv6 one.
  const std::string& primary_address() const { return ipv4.empty() ? ipv6.front() : ipv4.front(); }
};

struct Catalog {
  std::vector<CatalogEntry> resolvers;
  std::map<std::string, std::vector<std::string>> sets;
  const CatalogEntry* find(std::string_view id) const;
  /// Adds `other`'s resolvers and sets; an id or set name already present is replaced.
  void merge(const Catalog& other);
};

/// Parses a catalog document; errors name the JSON pointer, prefixed by `origin`.
Result<Catalog> parse_catalog(std::string_view text, const std::string& origin);
Result<Catalog> load_catalog(const std::string& path);
/// The catalog compiled into the binary.
const Catalog& builtin_catalog();

}  // namespace ddnswatch::resolvers
