// A DNS server for tests that misbehaves on purpose: UDP and TCP on one loopback address and a
// port picked at run time, served by its own thread. Each query is answered in one Mode: the
// one its name's first label names ("ttl-top-bit.hostile.test"), else the server's own mode.
// Good answers carry one A record (the configured address) for A questions and no record for
// the other types.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ddnswatch::testing {

enum class HostileMode {
  kGood,                // a proper answer: the address, TTL 300
  kSilent,              // no answer at all
  kRandomBytes,         // random bytes of random length (a fixed seed: the same every run)
  kGarbageBody,         // the query's header and question, QR set, then random bytes
  kWrongId,             // a good answer under another query ID
  kOtherName,           // a good answer to another name
  kOtherType,           // a good answer whose question asks AAAA instead
  kCutRecord,           // the answer record ends in the middle of its address
  kShortAddress,        // an A record of 3 bytes
  kTruncatedThenGood,   // TC=1 over UDP; over TCP the good answer
  kTruncatedThenCut,    // TC=1; TCP announces a length, sends half of it and closes
  kTruncatedThenClose,  // TC=1; TCP closes without a byte
  kTruncatedThenHuge,   // TC=1; TCP gives a 65535-byte answer (about 4000 A records)
  kTtlZero,             // TTL 0
  kTtlMax,              // TTL 2^31-1
  kTtlTopBit,           // TTL 0x80000005: top bit set, to be read as 0 (RFC 2181 section 8)
  kManyRecords,         // 300 A records in one UDP datagram of about 4.8 KB, no TC
  kLate,                // the good answer, but only after the late delay
  kLateAfterFresh,      // holds a query; when the next one comes, answers the held one first
                        // (with the address one higher), then the new one
  kNotAResponse,        // a good answer with QR=0
  kOpcodeMismatch,      // a good answer with opcode STATUS (2) instead of QUERY
  kPointerLoop,         // the answer's owner name is a compression pointer to itself
  kQuestionLoop,        // the question's name is a compression pointer to itself
  kLabelOverflow,       // the answer's owner name has a label running past the message end
  kNameTooLong,         // the answer's owner name is 320 bytes long (255 is the limit)
  kServFail,            // rcode SERVFAIL
};

const char* to_string(HostileMode mode);
std::optional<HostileMode> parse_hostile_mode(std::string_view text);

struct HostileDnsOptions {
  std::string address = "127.0.0.1";  // a loopback address
  HostileMode mode = HostileMode::kGood;
  std::string answer = "192.0.2.1";  // the A record of good answers
  std::chrono::milliseconds late_delay{800};
};

/// Starts serving in the constructor and stops in the destructor; ok() says whether it could
/// bind both sockets. Counters may be read from any thread.
class HostileDnsServer {
 public:
  explicit HostileDnsServer(HostileDnsOptions options = {});
  ~HostileDnsServer();
  HostileDnsServer(const HostileDnsServer&) = delete;
  HostileDnsServer& operator=(const HostileDnsServer&) = delete;

  bool ok() const { return udp_ >= 0 && tcp_ >= 0; }
  const std::string& address() const { return options_.address; }
  uint16_t port() const { return port_; }
  std::string endpoint() const { return options_.address + ":" + std::to_string(port_); }

  int udp_queries() const { return udp_queries_; }
  int tcp_queries() const { return tcp_queries_; }
  /// The IDs of the UDP queries received so far, in order.
  std::vector<uint16_t> query_ids() const;

 private:
  struct State;
  void serve();

  HostileDnsOptions options_;
  int udp_ = -1;
  int tcp_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> udp_queries_{0};
  std::atomic<int> tcp_queries_{0};
  mutable std::mutex ids_mu_;
  std::vector<uint16_t> query_ids_;
  std::thread thread_;
};

}  // namespace ddnswatch::testing
