// TSIG (RFC 8945): signing a request and verifying the server's signed answer with a shared
// secret, HMAC-SHA256 or HMAC-SHA512. Pure: the caller passes the time. The secret lives in a
// TsigKey and is never part of an error message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ddnswatch::providers::tsig {

enum class Algorithm { kHmacSha256, kHmacSha512 };

/// "hmac-sha256", "hmac-sha512" (the config's spelling; the wire adds the final dot).
const char* to_string(Algorithm algorithm);

/// The fudge we send: the time window the server allows around our time signed (seconds).
inline constexpr uint16_t kFudge = 300;

class Key {
 public:
  /// `name` as configured (any case, final dot optional), `algorithm` "hmac-sha256" or
  /// "hmac-sha512", `secret_base64` as tsig-keygen prints it.
  static Result<Key> create(std::string_view name, std::string_view algorithm,
                            std::string_view secret_base64);

  const std::string& name() const { return name_; }  // lower case, no final dot
  Algorithm algorithm() const { return algorithm_; }
  /// Raw HMAC of `data` with this key's algorithm and secret.
  std::string mac(std::string_view data) const;
  size_t mac_size() const { return algorithm_ == Algorithm::kHmacSha256 ? 32 : 64; }

 private:
  Key(std::string name, Algorithm algorithm, std::string secret)
      : name_(std::move(name)), algorithm_(algorithm), secret_(std::move(secret)) {}
  std::string name_;
  Algorithm algorithm_;
  std::string secret_;  // raw bytes
};

/// The TSIG RR of a message, as read from the wire.
struct Record {
  std::string key_name;   // as on the wire, no final dot
  std::string algorithm;  // as on the wire, no final dot ("hmac-sha256")
  uint64_t time_signed = 0;
  uint16_t fudge = 0;
  std::string mac;
  uint16_t original_id = 0;
  uint16_t error = 0;  // a TSIG error (BADSIG 16, BADKEY 17, BADTIME 18) or 0
  std::string other;   // with BADTIME: the server's time, 48 bits
  size_t offset = 0;   // where the TSIG RR starts in the message

  /// The server's clock from a BADTIME answer's other data, if it carries one.
  std::optional<uint64_t> server_time() const;
};

/// The message's TSIG RR: nothing if it has none; an error if the message does not parse or
/// has a TSIG RR that is not the last one of the additional section (RFC 8945 section 5.1).
Result<std::optional<Record>> find(std::string_view message);

struct Signed {
  std::string message;  // the request with the TSIG RR appended, ARCOUNT incremented
  std::string mac;      // what the answer's MAC covers first (the request MAC)
};

/// Signs `message` (a complete DNS message without TSIG) as of `time_signed` (Unix seconds).
Signed sign(std::string_view message, const Key& key, uint64_t time_signed,
            uint16_t fudge = kFudge);

/// Signs a response to a request whose MAC was `request_mac`, as a server does. For tests
/// (the fake servers) and for symmetry with verify(); `error` and `other` as in RFC 8945.
Signed sign_response(std::string_view response, const Key& key, std::string_view request_mac,
                     uint64_t time_signed, uint16_t error = 0, std::string_view other = {},
                     uint16_t fudge = kFudge);

enum class Verdict {
  kValid,      // signed with our key, MAC correct, time within the fudge
  kUnsigned,   // no TSIG RR at all, or one with an empty MAC (servers send BADSIG and BADKEY so)
  kOtherKey,   // signed, but with another key name or algorithm
  kBadMac,     // the MAC does not match: tampered, or another secret
  kTimeOff,    // MAC right, but the time signed is outside its fudge of `now`
  kMalformed,  // the TSIG RR does not parse
};

struct Verification {
  Verdict verdict = Verdict::kMalformed;
  std::optional<Record> record;  // the answer's TSIG RR when it has one
  std::string detail;            // for people: why it is not kValid
};

/// Checks an answer to a request signed with `request_mac` (RFC 8945 section 5.3): the MAC over
/// the request MAC (with its length), the answer without its TSIG RR with the original id
/// restored, and the TSIG variables. `now` is our clock (Unix seconds); a BADTIME answer
/// carries our own time signed back, so its time is not checked against `now`.
Verification verify(std::string_view response, const Key& key, std::string_view request_mac,
                    uint64_t now);

}  // namespace ddnswatch::providers::tsig
