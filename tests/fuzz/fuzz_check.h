// What the fuzz targets share: a check that stops the run with a message when an invariant
// breaks (libFuzzer then saves the input), and the checks on addresses that several parsers
// promise.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/validate.h"

namespace ddnswatch::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  std::abort();
}

/// Like assert(), but also in release builds.
#define FUZZ_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::ddnswatch::fuzz::fail(__FILE__, __LINE__, #condition))

/// An address as the parsers hand it on: an IP address in canonical text (so that it compares
/// as a string with the addresses of the config).
inline bool canonical_address(const std::string& text) {
  return config::is_ip_address(text) && config::canonical_ip(text) == text;
}

/// The input as text.
inline std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ddnswatch::fuzz
