// Reading a DNS response: header flags, the CNAME chain from the question's name, the records
// of the asked type with their TTLs, and the SOA. Pure and bounds-checked: a response that does
// not parse is an error value, never a crash (the fuzz-style unit tests feed it garbage).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.h"
#include "resolvers/dns_types.h"

namespace ddnswatch::resolvers {

/// Fills every field of an Answer except latency and detail. The outcome follows from the
/// rcode and the records: NOERROR with records is kNoError, without them kNoData.
Result<Answer> parse_response(std::span<const uint8_t> message, const Question& question);

/// Maps a DNS rcode of an answer that parsed to an outcome (records decide NOERROR vs NODATA).
Outcome outcome_for_rcode(int rcode, bool has_records);

}  // namespace ddnswatch::resolvers
