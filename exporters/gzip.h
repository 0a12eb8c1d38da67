// gzip for HTTP responses (Prometheus asks for it with Accept-Encoding: gzip; a /metrics page
// with many resolvers and names shrinks about tenfold).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace ddnswatch::exporters {

/// The gzip format (RFC 1952) of `data`, through zlib.
Result<std::string> gzip_compress(std::string_view data);

/// Whether an Accept-Encoding header value allows gzip ("gzip", "x-gzip" or "*", unless its
/// quality is 0), per RFC 9110 section 12.5.3.
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace ddnswatch::exporters
