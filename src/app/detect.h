// `ddnswatch detect`: one detection per configured family, printed as a table (or JSON) of
// what every IP source said, how long it took, and the quorum's verdict.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "ipdetect/detection.h"

namespace ddnswatch::app {

struct DetectOptions {
  std::optional<std::string> family;  // "ipv4" or "ipv6"; unset: every configured family
  bool json = false;
};

std::string format_detect_table(const std::vector<ipdetect::Detection>& detections);
std::string format_detect_json(const std::vector<ipdetect::Detection>& detections);

/// Runs the detections; returns the exit code: 0 every family trusted an address, 1 any did
/// not (or none is configured), 2 usage errors. Prints errors to stderr. curl and c-ares must
/// be initialised.
int run_detect(const DetectOptions& options, const config::Config& config);

}  // namespace ddnswatch::app
