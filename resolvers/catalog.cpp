#include "resolvers/catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "config/validate.h"
#include "core/atomic_file.h"

namespace ddnswatch::resolvers {

extern const char* const kBuiltinCatalogJson;

namespace {

using nlohmann::json;

Result<std::string> string_at(const json& o, const std::string& key, const std::string& where,
                              bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    if (required) return make_error(ErrorCode::kCorrupt, fmt::format("{}/{}: missing", where, key));
    return std::string();
  }
  if (!it->is_string()) {
    return make_error(ErrorCode::kCorrupt, fmt::format("{}/{}: expected a string", where, key));
  }
  return it->get<std::string>();
}

Result<std::vector<std::string>> strings_at(const json& o, const std::string& key,
                                            const std::string& where) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return out;
  if (!it->is_array()) {
    return make_error(ErrorCode::kCorrupt, fmt::format("{}/{}: expected an array", where, key));
  }
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) {
      return make_error(ErrorCode::kCorrupt,
                        fmt::format("{}/{}/{}: expected a string", where, key, i));
    }
    out.push_back((*it)[i].get<std::string>());
  }
  return out;
}

}  // namespace

const CatalogEntry* Catalog::find(std::string_view id) const {
  auto it = std::find_if(resolvers.begin(), resolvers.end(),
                         [&](const CatalogEntry& e) { return e.id == id; });
  return it == resolvers.end() ? nullptr : &*it;
}

void Catalog::merge(const Catalog& other) {
  for (const CatalogEntry& e : other.resolvers) {
    auto it = std::find_if(resolvers.begin(), resolvers.end(),
                           [&](const CatalogEntry& x) { return x.id == e.id; });
    if (it != resolvers.end()) {
      *it = e;
    } else {
      resolvers.push_back(e);
    }
  }
  for (const auto& [name, members] : other.sets) sets[name] = members;
}

Result<Catalog> parse_catalog(std::string_view text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return make_error(ErrorCode::kCorrupt, fmt::format("{}: not JSON (byte {})", origin, e.byte));
  }
  if (!doc.is_object()) return make_error(ErrorCode::kCorrupt, origin + ": expected an object");
  if (auto v = doc.find("version"); v == doc.end() || !v->is_number_integer() || *v != 1) {
    return make_error(ErrorCode::kUnsupported, origin + ": /version: expected 1");
  }
  Catalog catalog;
  auto list = doc.find("resolvers");
  if (list == doc.end() || !list->is_array()) {
    return make_error(ErrorCode::kCorrupt, origin + ": /resolvers: expected an array");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const json& r = (*list)[i];
    const std::string where = fmt::format("{}: /resolvers/{}", origin, i);
    if (!r.is_object()) return make_error(ErrorCode::kCorrupt, where + ": expected an object");
    CatalogEntry e;
    auto id = string_at(r, "id", where, true);
    if (!id) return tl::unexpected(id.error());
    e.id = *id;
    if (e.id.empty() || catalog.find(e.id) != nullptr) {
      return make_error(ErrorCode::kCorrupt,
                        fmt::format("{}/id: empty or duplicate id \"{}\"", where, e.id));
    }
    for (auto [field, key] : {std::pair{&e.name, "name"},
                              {&e.operator_name, "operator"},
                              {&e.geo, "geo"},
                              {&e.country, "country"},
                              {&e.filtering, "filtering"},
                              {&e.ecs, "ecs"}}) {
      auto v = string_at(r, key, where, false);
      if (!v) return tl::unexpected(v.error());
      *field = *v;
    }
    if (e.name.empty()) e.name = e.id;
    auto v4 = strings_at(r, "ipv4", where);
    if (!v4) return tl::unexpected(v4.error());
    auto v6 = strings_at(r, "ipv6", where);
    if (!v6) return tl::unexpected(v6.error());
    for (size_t k = 0; k < v4->size(); ++k) {
      if (!config::is_ipv4_address((*v4)[k])) {
        return make_error(
            ErrorCode::kCorrupt,
            fmt::format("{}/ipv4/{}: \"{}\" is not an IPv4 address", where, k, (*v4)[k]));
      }
    }
    for (size_t k = 0; k < v6->size(); ++k) {
      if (!config::is_ipv6_address((*v6)[k])) {
        return make_error(
            ErrorCode::kCorrupt,
            fmt::format("{}/ipv6/{}: \"{}\" is not an IPv6 address", where, k, (*v6)[k]));
      }
    }
    e.ipv4 = std::move(*v4);
    e.ipv6 = std::move(*v6);
    if (e.ipv4.empty() && e.ipv6.empty()) {
      return make_error(ErrorCode::kCorrupt, where + ": no ipv4 or ipv6 address");
    }
    catalog.resolvers.push_back(std::move(e));
  }
  if (auto sets = doc.find("sets"); sets != doc.end()) {
    if (!sets->is_object())
      return make_error(ErrorCode::kCorrupt, origin + ": /sets: expected an object");
    for (const auto& [name, members] : sets->items()) {
      auto list_of = strings_at(*sets, name, origin + ": /sets");
      if (!list_of) return tl::unexpected(list_of.error());
      catalog.sets[name] = std::move(*list_of);
    }
  }
  return catalog;
}

Result<Catalog> load_catalog(const std::string& path) {
  auto text = read_file(path);
  if (!text) return tl::unexpected(text.error());
  return parse_catalog(*text, path);
}

const Catalog& builtin_catalog() {
  static const Catalog catalog = [] {
    auto c = parse_catalog(kBuiltinCatalogJson, "built-in catalog");
    // The file is checked by the unit tests; a broken build must not start half-configured.
    if (!c) std::abort();
    return std::move(*c);
  }();
  return catalog;
}

}  // namespace ddnswatch::resolvers
