#include "providers/provider.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <variant>

#include "core/inet.h"
#include "providers/alidns.h"
#include "providers/cloudflare.h"
#include "providers/dns_wire.h"
#include "providers/dnspod.h"
#include "providers/dyndns2.h"
#include "providers/powerdns.h"
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

Reconciliation make_reconciliation(Outcome outcome, std::string message,
                                   std::vector<std::string> before) {
  Reconciliation r;
  r.outcome = outcome;
  r.message = std::move(message);
  r.before = std::move(before);
  return r;
}

std::string join_addresses(const std::vector<std::string>& addresses) {
  return addresses.empty() ? "nothing" : fmt::format("{}", fmt::join(addresses, ", "));
}

std::string record_text(const Desired& desired) {
  return fmt::format("{} {}", desired.name, config::to_string(desired.type));
}

std::optional<std::string> desired_problem(const Desired& desired, const std::string& zone,
                                           const std::vector<std::string>& wanted) {
  if (!zone.empty() && !dns::in_zone(desired.name, zone)) {
    return fmt::format("{} is not inside zone {}: the provider would refuse it", desired.name,
                       zone);
  }
  if (wanted.empty()) {
    return fmt::format("none of the wanted addresses ({}) is an {} address; nothing to write",
                       join_addresses(desired.addresses),
                       desired.type == config::RecordType::kA ? "IPv4" : "IPv6");
  }
  if (desired.ttl && *desired.ttl < 0) return fmt::format("TTL {} is negative", *desired.ttl);
  return std::nullopt;
}

std::string updated_message(const Desired& desired, const std::vector<std::string>& wanted,
                            uint32_t ttl, const std::vector<std::string>& before) {
  return fmt::format("{} now holds {} (TTL {}); it held {}", record_text(desired),
                     join_addresses(wanted), ttl, join_addresses(before));
}

std::string unchanged_message(const Desired& desired, const RrsetState& current) {
  return fmt::format("{} already holds {} (TTL {})", record_text(desired),
                     join_addresses(current.addresses), current.ttl.value_or(0));
}

int address_family(config::RecordType type) {
  return type == config::RecordType::kA ? AF_INET : AF_INET6;
}

std::string address_text(int af, const void* raw) {
  char text[INET6_ADDRSTRLEN];
  return inet_ntop(af, raw, text, sizeof text) ? std::string(text) : std::string();
}

UpdatePlan plan_update(const RrsetState& current, const std::vector<std::string>& wanted,
                       std::optional<int> wanted_ttl) {
  UpdatePlan plan;
  if (wanted_ttl) {
    plan.ttl = static_cast<uint32_t>(*wanted_ttl);
  } else if (current.ttl) {
    plan.ttl = *current.ttl;
  }
  bool same_set = current.addresses == wanted;
  bool same_ttl = !wanted_ttl || (current.ttl && *current.ttl == plan.ttl);
  plan.write = !(same_set && same_ttl);
  return plan;
}

std::vector<std::string> canonical_addresses(const std::vector<std::string>& addresses,
                                             config::RecordType type) {
  std::vector<std::string> out;
  for (const std::string& a : addresses) {
    unsigned char raw[16];
    if (inet_pton(address_family(type), a.c_str(), raw) == 1) {
      out.push_back(address_text(address_family(type), raw));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::unique_ptr<Provider>> make_provider(const config::ProviderConfig& config,
                                                ProviderContext context) {
  return std::visit(
      [&](const auto& p) -> Result<std::unique_ptr<Provider>> {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, config::CloudflareProvider>) {
          return make_cloudflare_provider(p, config, context);
        } else if constexpr (std::is_same_v<T, config::AlidnsProvider>) {
          return make_alidns_provider(p, config, context);
        } else if constexpr (std::is_same_v<T, config::DnspodProvider>) {
          return make_dnspod_provider(p, config, context);
        } else if constexpr (std::is_same_v<T, config::Dyndns2Provider>) {
          return make_dyndns2_provider(p, config, context);
        } else if constexpr (std::is_same_v<T, config::Rfc2136Provider>) {
          return make_rfc2136_provider(p, context);
        } else {
          static_assert(std::is_same_v<T, config::PowerdnsProvider>);
          return make_powerdns_provider(p, config, context);
        }
      },
      config.settings);
}

}  // namespace ddnswatch::providers
