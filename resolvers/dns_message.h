// Writing a DNS query and reading a DNS response: header flags, the CNAME chain from the question's
// name, the records of the asked type with their TTLs, and the SOA. Pure and bounds-checked: a
// response that does not parse is an error value, never a crash (the fuzz-style unit tests feed it
// garbage).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.h"
#include "resolvers/dns_types.h"

namespace ddnswatch::resolvers {

/// The UDP payload size every query advertises in its EDNS OPT record: the DNS flag day 2020
/// size, no IP fragmentation.
inline constexpr uint16_t kEdnsUdpSize = 1232;
/// Header, a name of at most 255 bytes, type and class, the OPT record.
inline constexpr size_t kMaxQuerySize = 12 + 255 + 4 + 11;

/// Writes the query that c-ares's ares_create_query writes for a channel with EDNS (header with
/// `id` and RD as asked, one question, an OPT record advertising kEdnsUdpSize) into `out` and
/// returns its length. Only names of plain labels, with or without the final dot; 0 for
/// anything else (a backslash escape, an empty or overlong label, a name over 255 bytes, the
/// root), which is left to ares_query and its own checks.
size_t build_query(const Question& question, bool recursion, uint16_t id,
                   std::span<uint8_t, kMaxQuerySize> out);

/// Fills every field of an Answer except latency and detail. The outcome follows from the
/// rcode and the records: NOERROR with records is kNoError, without them kNoData.
Result<Answer> parse_response(std::span<const uint8_t> message, const Question& question);

/// Maps a DNS rcode of an answer that parsed to an outcome (records decide NOERROR vs NODATA).
Outcome outcome_for_rcode(int rcode, bool has_records);

}  // namespace ddnswatch::resolvers
