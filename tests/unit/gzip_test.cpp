// gzip for /metrics: what Accept-Encoding values allow it, and that the output is gzip that
// zlib reads back byte for byte.
#include "exporters/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace ddnswatch::exporters {
namespace {

std::string gunzip(const std::string& packed) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  zs.avail_in = static_cast<uInt>(packed.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

TEST(GzipTest, RoundTripsAndShrinksMetricsText) {
  std::string text;
  for (int i = 0; i < 500; ++i) {
    text += "ddnswatch_dns_answer_state{name=\"host" + std::to_string(i) +
            ".example.com\",qtype=\"A\",resolver=\"google\",state=\"match\"} 1\n";
  }
  auto packed = gzip_compress(text);
  ASSERT_TRUE(packed) << packed.error().message;
  ASSERT_GE(packed->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*packed)[0]), 0x1f) << "gzip magic";
  EXPECT_EQ(static_cast<unsigned char>((*packed)[1]), 0x8b) << "gzip magic";
  EXPECT_LT(packed->size() * 10, text.size());
  EXPECT_EQ(gunzip(*packed), text);
  auto empty = gzip_compress("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(gunzip(*empty), "");
}

TEST(GzipTest, AcceptEncodingValues) {
  struct Case {
    const char* header;
    bool gzip;
  } cases[] = {
      {"gzip", true},
      {"gzip, deflate, br", true},
      {"deflate, GZIP", true},
      {"x-gzip", true},
      {"*", true},
      {"identity", false},
      {"", false},
      {"gzip;q=0", false},
      {"gzip; q=0.0, deflate", false},
      {"gzip;q=0.5", true},
      {"br, gzip;q=1.0", true},
      {"gzipped", false},
  };
  for (const auto& c : cases) EXPECT_EQ(accepts_gzip(c.header), c.gzip) << c.header;
}

}  // namespace
}  // namespace ddnswatch::exporters
