// What the HTTPS fakes of the provider tests share: certificates made once per test process, an
// HTTPS receiver on 127.0.0.1 that uses them, HTTP dates, and query strings read back as the
// real APIs read them.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporters/http_server.h"
#include "support/receiver.h"

namespace ddnswatch::testing {

/// A root CA and a server certificate for IP 127.0.0.1 (testing::Pki), made on first use and
/// kept until the process exits.
class TestCertificates {
 public:
  static const TestCertificates& get();
  bool ready() const { return ready_; }
  const std::string& log() const { return log_; }  // why not ready
  exporters::TlsFiles server() const;              // the chain and key a fake serves
  std::string ca_file() const;                     // what the provider must trust

 private:
  TestCertificates();
  std::string dir_;
  bool ready_ = false;
  std::string log_;
};

/// An HTTPS receiver with TestCertificates (which must be ready()).
std::unique_ptr<Receiver> https_receiver(std::vector<std::string> paths,
                                         std::vector<std::string> methods);

/// An HTTP-date (IMF-fixdate), as a Date header carries it.
std::string http_date(std::chrono::system_clock::time_point t = std::chrono::system_clock::now());

/// %XY decoding; nullopt on a '%' not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text);

/// "a=1&b=%20" as decoded pairs in order (repeats kept); nullopt when an encoding is broken.
std::optional<std::vector<std::pair<std::string, std::string>>> query_pairs(std::string_view query);

/// The same as a map (a repeated name keeps its last value; a broken query gives an empty map).
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace ddnswatch::testing
