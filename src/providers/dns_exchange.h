// One DNS request and its answer with one server, on the event loop: UDP first, TCP when the
// answer comes back truncated, a timeout per try and a bounded number of tries. Answers that
// do not belong to the request (another id, question or opcode) are ignored, not accepted.
//
// UDP first, as nsupdate does: one round trip, no connection state on the server, and a
// connected socket reports "nothing listens there" at once. Sending an UPDATE again after a
// lost answer is safe: replacing an RRset with the same records is idempotent.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/result.h"

namespace ddnswatch::providers {

/// "IP" or "IP:PORT" or "[IPv6]:PORT" parsed; port 53 when none is given.
struct ServerAddress {
  std::string ip;
  uint16_t port = 53;
  std::string to_string() const;  // "127.0.0.1:53", "[::1]:53"
};
Result<ServerAddress> parse_server_address(const std::string& text);

struct ExchangeOptions {
  Duration timeout = std::chrono::seconds(5);  // per try
  int tries = 2;
};

/// What came back: the answer's bytes and whether TCP carried it.
struct ExchangeReply {
  std::string message;
  bool tcp = false;
};

/// Loop thread only. The callback runs once, later, on the loop thread (never inside start());
/// destroying the exchange cancels it without calling back, also from inside the callback.
class DnsExchange {
 public:
  using Callback = std::function<void(Result<ExchangeReply>)>;

  /// Sends `request` (a complete DNS message) to `server`. Errors (kIo) are for people:
  /// "no answer from 127.0.0.1:53 within 2 tries of 5 s", "127.0.0.1:53 refused the connection".
  static std::unique_ptr<DnsExchange> start(EventLoop& loop, const ServerAddress& server,
                                            std::string request, ExchangeOptions options,
                                            Callback callback);
  ~DnsExchange();
  DnsExchange(const DnsExchange&) = delete;
  DnsExchange& operator=(const DnsExchange&) = delete;

  struct Impl;  // opaque; public only so the implementation's C callbacks can name it

 private:
  explicit DnsExchange(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddnswatch::providers
