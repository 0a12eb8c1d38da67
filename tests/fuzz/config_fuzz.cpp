// The config loader, from the JSON text to a validated Config: what a person (or a config
// management tool) writes into ddnswatch.json. Whatever the text, the loader returns a Config
// or diagnostics; it never throws, and every diagnostic says something.
#include <optional>
#include <string>

#include "config/config_loader.h"
#include "config/validate.h"
#include "fuzz/fuzz_check.h"

using namespace ddnswatch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // ${ENV} references resolve to a fixed value, or to nothing for UNSET_*; relative secret
  // files and catalogs are looked for in a folder that does not exist.
  const config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name.rfind("UNSET_", 0) == 0) return std::nullopt;
    return "value-of-" + name;
  };
  auto loaded = config::parse_config(fuzz::text(data, size),
                                     "/nonexistent/ddnswatch-fuzz/ddnswatch.json", env);
  if (!loaded) {
    FUZZ_CHECK(!loaded.error().empty());
    for (const auto& d : loaded.error()) FUZZ_CHECK(!d.message.empty());
    return 0;
  }
  for (const auto& r : loaded->records) {
    FUZZ_CHECK(config::is_dns_name(r.name));
    for (const auto& a : r.fixed_addresses) FUZZ_CHECK(config::is_ip_address(a));
  }
  for (const auto& w : loaded->watch) FUZZ_CHECK(config::is_dns_name(w.name));
  return 0;
}
