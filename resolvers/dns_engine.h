// The DNS engine: one c-ares channel per named resolver, driven on the daemon's libuv loop by
// c-ares's socket-state callback plus one timer (no select, no polling). Queries beyond a
// resolver's in-flight cap or rate limit wait in the engine, so public resolvers are never
// hammered and a server's receive buffer never overflows into false timeouts.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/observers.h"
#include "core/result.h"
#include "resolvers/dns_types.h"

namespace ddnswatch::resolvers {

/// Loop thread only. Callbacks never run inside the call that queued their query; they run
/// later on the loop thread, exactly once per query (also when the resolver is removed).
/// The engine must be destroyed before its loop; destroying it drops pending callbacks
/// without calling them.
class DnsEngine {
 public:
  using Callback = std::function<void(const Answer&)>;

  static Result<std::unique_ptr<DnsEngine>> create(EventLoop& loop, const Clock& clock,
                                                   DnsQueryObserver* observer = nullptr);
  ~DnsEngine();
  DnsEngine(const DnsEngine&) = delete;
  DnsEngine& operator=(const DnsEngine&) = delete;

  /// Creates the resolver's channel. An id already present is an error.
  Result<void> add_resolver(const ResolverSpec& spec);
  /// Ends the resolver's queries (queued and in flight) with outcome kNetwork, "cancelled",
  /// and releases its channel once no c-ares call is on the stack.
  void remove_resolver(const std::string& id);
  bool has_resolver(const std::string& id) const;

  /// Queues a query to the resolver `resolver_id`. An unknown id ends with kNetwork.
  void query(const std::string& resolver_id, Question question, Callback callback);

  /// Queries queued (waiting for the cap or the rate limit) and in flight, over all resolvers.
  size_t queued() const;
  size_t in_flight() const;

 private:
  struct Impl;
  explicit DnsEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddnswatch::resolvers
