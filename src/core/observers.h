// The interfaces through which domain code reports what happens, without knowing who listens
// (the metric catalog in exporters/, later the event sinks). Each says which thread calls it.
#pragma once

#include "core/clock.h"

namespace ddnswatch {

/// Called on the loop thread after every attempt to load the config (start-up and reloads).
class ConfigObserver {
 public:
  virtual ~ConfigObserver() = default;
  virtual void config_loaded(bool ok, WallTime when) = 0;
};

}  // namespace ddnswatch
