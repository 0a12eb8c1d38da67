// What the tests that drive the DNS engine share: an answer in one line for failure messages,
// and an observer that counts the outcomes the engine reports.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "core/observers.h"
#include "resolvers/dns_types.h"

namespace ddnswatch::testing {

/// Everything about an answer, for failure messages (the first 8 records; then how many).
inline std::string describe(const resolvers::Answer& a) {
  std::string text = std::string(resolvers::to_string(a.outcome)) +
                     " rcode=" + std::to_string(a.rcode) +
                     " latency=" + std::to_string(a.latency.count()) + "us";
  if (a.authoritative) text += " aa";
  if (a.truncated) text += " tc";
  for (const auto& name : a.cname_chain) text += " cname=" + name;
  for (size_t i = 0; i < a.records.size() && i < 8; ++i) {
    text += " [" + a.records[i].value + " ttl " + std::to_string(a.records[i].ttl) + "]";
  }
  if (a.records.size() > 8) text += " ... (" + std::to_string(a.records.size()) + " records)";
  if (a.soa) text += " soa=" + a.soa->zone + "/" + std::to_string(a.soa->serial);
  if (!a.detail.empty()) text += " detail=\"" + a.detail + "\"";
  return text;
}

/// Counts the outcomes the engine reports, per resolver. Loop thread only.
class CountingObserver : public DnsQueryObserver {
 public:
  void dns_query_done(const std::string& resolver, const char* outcome,
                      std::chrono::microseconds /*latency*/) override {
    ++counts[resolver][outcome];
    ++total;
  }
  std::map<std::string, std::map<std::string, int>> counts;
  int total = 0;
};

}  // namespace ddnswatch::testing
