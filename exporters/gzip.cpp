#include "exporters/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

namespace ddnswatch::exporters {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

}  // namespace

Result<std::string> gzip_compress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's. Level 1: a /metrics page
  // is repetitive enough that it shrinks about as much as at level 6 (the default), in a
  // fraction of the time (bench/README.md, row 4).
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return make_error(ErrorCode::kInternal, "zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const uLong written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return make_error(ErrorCode::kInternal, "zlib: deflate failed");
  out.resize(written);
  return out;
}

bool accepts_gzip(std::string_view header) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    std::string_view coding = item;
    double quality = 1.0;
    if (size_t semi = item.find(';'); semi != std::string_view::npos) {
      coding = trim(item.substr(0, semi));
      std::string_view param = trim(item.substr(semi + 1));
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        try {
          quality = std::stod(std::string(param.substr(2)));
        } catch (const std::exception&) {
          quality = 0;
        }
      }
    }
    if ((iequals(coding, "gzip") || iequals(coding, "x-gzip") || coding == "*") && quality > 0) {
      return true;
    }
  }
  return false;
}

}  // namespace ddnswatch::exporters
