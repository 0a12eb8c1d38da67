// One check of one watched name: its question to every selected resolver and, when asked
// for, to each of the zone's authoritative servers (found through a bootstrap resolver: the
// zone cut from an SOA query, the NS set, each server's addresses; cached per zone), with
// each server's SOA serial. All queries of a sweep run in parallel on the engine.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/observers.h"
#include "resolvers/directory.h"
#include "resolvers/dns_engine.h"

namespace ddnswatch::monitor {

struct SweepRequest {
  std::string name;
  resolvers::QType qtype = resolvers::QType::kA;
  std::vector<resolvers::NamedResolver> resolvers;
  bool authoritative = false;  // also ask the zone's authoritative servers
};

struct AuthoritativeAnswer {
  std::string resolver;  // "auth:ns1.example.com"
  std::string nameserver;
  std::string address;
  resolvers::Answer answer;
  std::optional<uint32_t> serial;  // the zone's SOA serial at this server
};

struct SweepResult {
  std::string name;
  resolvers::QType qtype = resolvers::QType::kA;
  std::vector<std::pair<resolvers::NamedResolver, resolvers::Answer>> answers;
  std::string zone;  // empty when not looked up or not found
  std::vector<AuthoritativeAnswer> authoritative;
  std::string authoritative_error;  // why the zone's servers are unknown
  WallTime started{};
  Duration duration{0};
};

/// Loop thread only; must be destroyed before the engine.
class Sweeper {
 public:
  /// `bootstrap` is a recursive resolver for the zone lookups (added to the engine here);
  /// authoritative servers are asked on `authoritative_port` (53 except in labs).
  Sweeper(resolvers::DnsEngine& engine, const Clock& clock,
          const resolvers::ResolverDirectory& directory, resolvers::ResolverSpec bootstrap,
          uint16_t authoritative_port, MonitorObserver* observer = nullptr);
  ~Sweeper();
  Sweeper(const Sweeper&) = delete;
  Sweeper& operator=(const Sweeper&) = delete;

  void sweep(const SweepRequest& request, std::function<void(SweepResult)> done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// The addresses of an A/AAAA answer as a set of texts, and their smallest TTL.
std::vector<std::string> addresses_of(const resolvers::Answer& answer);
uint32_t min_ttl(const resolvers::Answer& answer);

}  // namespace ddnswatch::monitor
