// The vocabulary of the DNS engine: what is asked (Question), whom (ResolverSpec), and what
// came back (Answer, with an outcome class that the metrics and the monitor share).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace ddnswatch::resolvers {

enum class QType : uint16_t { kA = 1, kNS = 2, kCNAME = 5, kSOA = 6, kTXT = 16, kAAAA = 28 };
enum class QClass : uint16_t { kIN = 1, kCH = 3 };

const char* to_string(QType type);
/// "A", "aaaa", ... (case-insensitive); nullopt for a type the engine does not query.
std::optional<QType> parse_qtype(const std::string& text);

/// How a query ended. Every query ends in exactly one of these; they are the values of the
/// `outcome` label of ddnswatch_dns_queries_total.
enum class Outcome {
  kNoError,    // NOERROR with at least one record of the asked type (after CNAMEs)
  kNoData,     // NOERROR without such a record
  kNxDomain,   // NXDOMAIN
  kServFail,   // SERVFAIL
  kRefused,    // REFUSED (and NOTIMP, FORMERR: the server would not answer this)
  kTimeout,    // no answer within the timeout, after every try
  kNetwork,    // the query could not be sent or the connection failed
  kMalformed,  // an answer arrived but does not parse or does not match the question
};
inline constexpr Outcome kAllOutcomes[] = {
    Outcome::kNoError, Outcome::kNoData,  Outcome::kNxDomain, Outcome::kServFail,
    Outcome::kRefused, Outcome::kTimeout, Outcome::kNetwork,  Outcome::kMalformed};
const char* to_string(Outcome outcome);
/// True when a server answered (whatever it said): not a timeout, network or parse failure.
bool answered(Outcome outcome);

enum class Transport {
  kUdp,      // UDP, retried over TCP when the answer is truncated
  kUdpOnly,  // UDP; a truncated answer is reported as it is (TC set)
  kTcp,      // TCP only
};
const char* to_string(Transport transport);

struct Question {
  std::string name;  // without the final dot
  QType type = QType::kA;
  QClass qclass = QClass::kIN;
};

/// One resolver the engine talks to: one c-ares channel.
struct ResolverSpec {
  std::string id;       // unique in the engine; the `resolver` metric label
  std::string address;  // IPv4 or IPv6 literal
  uint16_t port = 53;
  Transport transport = Transport::kUdp;
  bool recursion = true;                       // RD flag; off for authoritative servers
  Duration timeout = std::chrono::seconds(2);  // per try
  int tries = 2;
  int max_in_flight = 50;        // queries outstanding at once; the rest wait in the engine
  double rate_limit = 0;         // queries per second, 0 = unlimited
  int burst = 0;                 // token bucket size; 0 = max(1, rate_limit)
  std::string endpoint() const;  // "192.0.2.1:53", "[2001:db8::1]:53"
  friend bool operator==(const ResolverSpec&, const ResolverSpec&) = default;
};

struct SoaData {
  std::string zone;  // owner name of the SOA record
  std::string mname;
  std::string rname;
  uint32_t serial = 0;
  uint32_t refresh = 0;
  uint32_t retry = 0;
  uint32_t expire = 0;
  uint32_t minimum = 0;
  uint32_t ttl = 0;
};

/// One record of the answer section, for the asked type at the end of the CNAME chain.
struct RecordData {
  std::string value;  // address text, target name, TXT strings joined, SOA as zone text
  uint32_t ttl = 0;
};

struct Answer {
  Outcome outcome = Outcome::kNetwork;
  int rcode = -1;              // -1 when no answer arrived
  bool authoritative = false;  // AA
  bool truncated = false;      // TC
  bool recursion_available = false;
  std::chrono::microseconds latency{0};  // from sending the query to its end, retries included
  std::vector<std::string> cname_chain;  // names followed, from the question's name on
  std::vector<RecordData> records;       // A/AAAA: addresses; NS: host names; TXT: text
  std::optional<SoaData> soa;  // the answer's SOA (SOA queries) or the authority section's
  std::string detail;          // why, for timeout, network and malformed
};

}  // namespace ddnswatch::resolvers
