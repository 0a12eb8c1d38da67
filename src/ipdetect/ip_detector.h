// The IP detector: asks every source of a family in parallel — HTTP echo services through the
// HttpClient, DNS echoes through the DnsEngine, local interfaces, fixed addresses — reads and
// filters each answer (one address, of the family, not a bogon), keeps each network source's
// backoff, and decides by quorum. Reports to an IpDetectObserver (the metrics).
#pragma once

#include <functional>
#include <memory>

#include "config/config.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/observers.h"
#include "ipdetect/address.h"
#include "ipdetect/detection.h"
#include "ipdetect/interfaces.h"
#include "net/http_client.h"
#include "resolvers/dns_engine.h"

namespace ddnswatch::ipdetect {

/// Loop thread only. Destroy it before the HttpClient and the DnsEngine it uses: it removes
/// its resolvers from the engine, and drops the callbacks of detections still running.
class IpDetector {
 public:
  IpDetector(EventLoop& loop, net::HttpClient& http, resolvers::DnsEngine& dns, const Clock& clock,
             IpDetectObserver* observer = nullptr);
  ~IpDetector();
  IpDetector(const IpDetector&) = delete;
  IpDetector& operator=(const IpDetector&) = delete;

  /// Takes the sources, quorums, timeout, allow list and CA file. A source kept from the
  /// previous config keeps its backoff; a detection already running ends with the sources it
  /// started with. DNS sources become resolvers "ipdetect/FAMILY/SOURCE" of the engine.
  void configure(const config::DetectConfig& config);

  /// Asks every source of `family` in parallel; `done` runs once on the loop, never inside
  /// detect(). A call while a detection of the family runs waits for that detection's result.
  /// A family without sources ends at once with no address.
  void detect(Family family, std::function<void(Detection)> done);

  /// Where interface addresses come from (tests feed fixed text); InterfaceReader::system()
  /// by default.
  void set_interface_reader(InterfaceReader reader);
  /// The jitter of backoffs, 0.8 to 1.2; uniformly random by default.
  void set_jitter(std::function<double()> jitter);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with in-flight callbacks, which hold it weakly
};

}  // namespace ddnswatch::ipdetect
