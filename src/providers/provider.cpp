#include "providers/provider.h"

#include <fmt/format.h>

#include <variant>

#include "providers/rfc2136.h"

namespace ddnswatch::providers {

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kUpdated:
      return "updated";
    case Outcome::kUnchanged:
      return "unchanged";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kRateLimited:
      return "rate_limited";
    case Outcome::kRejected:
      return "rejected";
  }
  return "failed";
}

Result<std::unique_ptr<Provider>> make_provider(const config::ProviderConfig& config,
                                                ProviderContext context) {
  if (const auto* rfc2136 = std::get_if<config::Rfc2136Provider>(&config.settings)) {
    return make_rfc2136_provider(*rfc2136, context);
  }
  return make_error(ErrorCode::kUnsupported,
                    fmt::format("provider {} is not implemented yet", config.kind()));
}

}  // namespace ddnswatch::providers
