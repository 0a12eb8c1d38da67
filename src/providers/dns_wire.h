// The DNS wire format as the RFC 2136 provider needs it: names in wire form, a plain query, an
// UPDATE message (RFC 2136) that replaces one RRset, and a bounds-checked parser of the answers.
// Byte buffers are std::string, as the HMAC functions take them. Pure: no I/O, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ddnswatch::providers::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeTsig = 250;
inline constexpr uint16_t kTypeAny = 255;
inline constexpr uint16_t kClassIn = 1;
inline constexpr uint16_t kClassAny = 255;

inline constexpr int kOpcodeQuery = 0;
inline constexpr int kOpcodeUpdate = 5;

inline constexpr size_t kHeaderSize = 12;

/// Response codes (RFC 1035, RFC 2136) and the TSIG errors of RFC 8945.
enum Rcode : uint16_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
  kYxDomain = 6,
  kYxRrset = 7,
  kNxRrset = 8,
  kNotAuth = 9,
  kNotZone = 10,
  kBadSig = 16,
  kBadKey = 17,
  kBadTime = 18,
  kBadTrunc = 22,
};
/// "NOERROR", "NOTAUTH", "BADSIG", ...; "RCODE 42" for codes without a name.
std::string rcode_name(uint16_t rcode);

/// `name` ("host.example.com", a final dot allowed, "" or "." for the root) in uncompressed wire
/// form; `lower` folds ASCII letters (the canonical form TSIG wants). Fails on an empty label,
/// a label over 63 bytes or a name over 255.
Result<std::string> encode_name(std::string_view name, bool lower = false);

/// ASCII case-insensitive equality of two dotted names, ignoring a final dot.
bool same_name(std::string_view a, std::string_view b);
/// True when `name` is `zone` or below it.
bool in_zone(std::string_view name, std::string_view zone);

/// A header-only view: the first 12 bytes of a message.
struct Header {
  uint16_t id = 0;
  bool qr = false;
  int opcode = 0;
  bool aa = false;
  bool tc = false;
  bool rd = false;
  uint16_t rcode = 0;  // the header's 4 bits
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;
};

struct Question {
  std::string name;  // dotted, no final dot, as the message spells it
  uint16_t type = 0;
  uint16_t qclass = 0;
};

struct Record {
  std::string name;  // dotted, no final dot
  uint16_t type = 0;
  uint16_t rclass = 0;
  uint32_t ttl = 0;
  std::string rdata;
  size_t offset = 0;        // where the record starts in the message
  size_t rdata_offset = 0;  // where its rdata starts (names inside may point back)
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authority;
  std::vector<Record> additional;
};

/// Parses a whole message; anything out of bounds, a compression loop or trailing bytes is a
/// kCorrupt error.
Result<Message> parse_message(std::string_view wire);
Result<Header> parse_header(std::string_view wire);

/// Reads the possibly compressed name at `offset` of `wire` (for names inside rdata).
Result<std::string> read_name(std::string_view wire, size_t offset);

/// A query for name/type, class IN, without recursion desired: the provider asks the primary
/// itself and wants its own, authoritative answer.
Result<std::string> build_query(uint16_t id, std::string_view name, uint16_t type);

/// An UPDATE for `zone` that atomically replaces the RRset name/type: delete the RRset
/// (class ANY, TTL 0, no rdata) and add one record per entry of `rdatas` with `ttl`. No
/// prerequisites: the provider has just read the RRset and replaces it whatever it holds.
Result<std::string> build_update(uint16_t id, std::string_view zone, std::string_view name,
                                 uint16_t type, const std::vector<std::string>& rdatas,
                                 uint32_t ttl);

/// Does `response` answer `request`: same id, QR set, same opcode and, when the response
/// repeats the question (or zone) section, the same one? Error answers may omit it.
bool answers_request(std::string_view request, std::string_view response);

/// Big-endian writers, for the message builders and TSIG.
void put16(std::string& out, uint16_t v);
void put32(std::string& out, uint32_t v);
void put48(std::string& out, uint64_t v);

}  // namespace ddnswatch::providers::dns
