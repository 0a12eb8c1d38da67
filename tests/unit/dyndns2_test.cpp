// The DynDNS2 status line as services write it: with CRLF or LF, padded, with one line per host,
// or something else entirely (an HTML page, nothing at all).
#include "providers/dyndns2.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ddnswatch::providers {
namespace {

TEST(Dyndns2StatusTest, ReadsTheFirstStatusLine) {
  struct Case {
    std::string body;
    Dyndns2Status status;
  };
  const std::vector<Case> cases = {
      {"good 192.0.2.1", {"good", "192.0.2.1"}},
      {"good 192.0.2.1\n", {"good", "192.0.2.1"}},
      {"good 192.0.2.1\r\n", {"good", "192.0.2.1"}},
      {"nochg 2001:db8::1\r\n", {"nochg", "2001:db8::1"}},
      {"  nochg   192.0.2.1  \t\r\n", {"nochg", "192.0.2.1"}},
      {"\r\n\n  \r\ngood 192.0.2.1\r\n", {"good", "192.0.2.1"}},
      {"good 192.0.2.1\ngood 192.0.2.2\n", {"good", "192.0.2.1"}},
      {"nohost\r\ngood 192.0.2.2\r\n", {"nohost", ""}},
      {"badauth", {"badauth", ""}},
      {"BADAUTH\n", {"badauth", ""}},
      {"!donator\n", {"!donator", ""}},
      {"!yours", {"!yours", ""}},
      {"911", {"911", ""}},
      {"dnserr\n", {"dnserr", ""}},
      {"good", {"good", ""}},
      {"<!DOCTYPE html>\n<html><body>Bad Gateway</body></html>", {"<!doctype", "html>"}},
      {"", {"", ""}},
      {" \r\n\t\n", {"", ""}},
  };
  for (const auto& c : cases) {
    auto s = parse_dyndns2_status(c.body);
    EXPECT_EQ(s.code, c.status.code) << "body: \"" << c.body << "\"";
    EXPECT_EQ(s.address, c.status.address) << "body: \"" << c.body << "\"";
  }
}

}  // namespace
}  // namespace ddnswatch::providers
