// Process-wide c-ares initialisation. The DNS engine (channels per named resolver on the
// event loop) builds on this; main() holds one CaresLibrary for the life of the process.
#pragma once

#include <string>

#include "core/result.h"

namespace ddnswatch::resolvers {

/// Initialises c-ares on creation and cleans it up on destruction. Create one, in main,
/// before any thread starts.
class CaresLibrary {
 public:
  static Result<CaresLibrary> init();
  CaresLibrary(CaresLibrary&& other) noexcept : active_(other.active_) { other.active_ = false; }
  CaresLibrary& operator=(CaresLibrary&&) = delete;
  CaresLibrary(const CaresLibrary&) = delete;
  ~CaresLibrary();

 private:
  CaresLibrary() = default;
  bool active_ = true;
};

/// The first DNS server of the system's configuration, as "ADDRESS:PORT" ("[V6]:PORT").
Result<std::string> system_resolver_address();

/// The c-ares version the process runs with, e.g. "1.18.1".
std::string cares_version();

}  // namespace ddnswatch::resolvers
