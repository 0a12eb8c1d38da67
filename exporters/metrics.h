// The metric catalog: every family ddnswatch exports is named, described and registered
// here, once, and fed through the observer interfaces of src/core/observers.h. Domain code
// never sees prometheus-cpp.
#pragma once

#include <memory>
#include <string>

#include "core/observers.h"

namespace ddnswatch::exporters {

struct BuildInfo {
  std::string version;
  std::string revision;
};

/// Thread-safe: observers are called on the loop thread, render() on the HTTP server's.
class Metrics final : public ConfigObserver {
 public:
  explicit Metrics(const BuildInfo& build);
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void config_loaded(bool ok, WallTime when) override;

  /// Everything registered, in the Prometheus text exposition format 0.0.4.
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddnswatch::exporters
