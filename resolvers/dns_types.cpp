#include "resolvers/dns_types.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace ddnswatch::resolvers {

const char* to_string(QType type) {
  switch (type) {
    case QType::kA:
      return "A";
    case QType::kNS:
      return "NS";
    case QType::kCNAME:
      return "CNAME";
    case QType::kSOA:
      return "SOA";
    case QType::kTXT:
      return "TXT";
    case QType::kAAAA:
      return "AAAA";
  }
  return "?";
}

std::optional<QType> parse_qtype(const std::string& text) {
  std::string upper = text;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (QType t : {QType::kA, QType::kAAAA, QType::kNS, QType::kCNAME, QType::kSOA, QType::kTXT}) {
    if (upper == to_string(t)) return t;
  }
  return std::nullopt;
}

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kNoError:
      return "noerror";
    case Outcome::kNoData:
      return "nodata";
    case Outcome::kNxDomain:
      return "nxdomain";
    case Outcome::kServFail:
      return "servfail";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kNetwork:
      return "network";
    case Outcome::kMalformed:
      return "malformed";
  }
  return "?";
}

bool answered(Outcome outcome) {
  return outcome != Outcome::kTimeout && outcome != Outcome::kNetwork &&
         outcome != Outcome::kMalformed;
}

const char* to_string(Transport transport) {
  switch (transport) {
    case Transport::kUdp:
      return "udp";
    case Transport::kUdpOnly:
      return "udp-only";
    case Transport::kTcp:
      return "tcp";
  }
  return "?";
}

std::string ResolverSpec::endpoint() const {
  if (address.find(':') != std::string::npos) return fmt::format("[{}]:{}", address, port);
  return fmt::format("{}:{}", address, port);
}

}  // namespace ddnswatch::resolvers
