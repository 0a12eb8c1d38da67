#include "config/config.h"

#include <fmt/format.h>

namespace ddnswatch::config {

const char* to_string(RecordType type) { return type == RecordType::kA ? "A" : "AAAA"; }

std::string ListenAddress::to_string() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string ProviderConfig::kind() const {
  static const char* const kNames[] = {"cloudflare", "alidns",  "dnspod",
                                       "dyndns2",    "rfc2136", "powerdns"};
  return kNames[settings.index()];
}

}  // namespace ddnswatch::config
