// A fake of the part of the PowerDNS HTTP API the powerdns provider uses (what a real PowerDNS
// checks: the X-API-Key header, the zone path, a REPLACE of the RRset), with one A RRset, a
// count of the writes of each address, answers that can be held back (to kill the daemon in
// the exact windows that matter) and an outage mode in which every request answers 503.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "exporters/http_server.h"
#include "support/receiver.h"

namespace ddnswatch::testing {

/// Thread-safe: requests arrive on the receiver's threads, the test reads and steers.
class FakePowerDns {
 public:
  enum class Hold { kNothing, kReads, kWritesAfterApplying };

  /// Serves `zone` (without the final dot) holding the A RRset of `name`, for `api_key`.
  FakePowerDns(std::string zone, std::string name, std::string api_key);
  ~FakePowerDns();
  FakePowerDns(const FakePowerDns&) = delete;
  FakePowerDns& operator=(const FakePowerDns&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }

  void set_hold(Hold hold);
  /// Waits until a request is being held back.
  bool wait_held(std::chrono::milliseconds timeout);

  /// While down, every request answers 503 Service Unavailable and changes nothing.
  void set_down(bool down);
  /// Requests answered 503 because of set_down.
  int refused_while_down() const;

  std::vector<std::string> held() const;
  int writes_of(const std::string& address) const;
  int total_writes() const;

 private:
  exporters::HttpResponse handle(const exporters::HttpRequest& r);
  // While `when` is the hold, the answer waits (at most 20 s: a kill or a release ends it).
  void hold_back(std::unique_lock<std::mutex>& lock, Hold when);

  const std::string zone_;
  const std::string name_;
  const std::string api_key_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Hold hold_ = Hold::kNothing;
  int holding_ = 0;
  bool down_ = false;
  int refused_ = 0;
  std::vector<std::string> addresses_;
  std::map<std::string, int> writes_;
  Receiver server_;  // last: destroyed first, while the members above still live
};

}  // namespace ddnswatch::testing
