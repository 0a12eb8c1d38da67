// Reading values out of a Prometheus text exposition, for tests that scrape /metrics.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace ddnswatch::testing {

/// The value of the first sample of `name` whose labels include all of `labels`.
std::optional<double> metric_value(const std::string& exposition, const std::string& name,
                                   const std::map<std::string, std::string>& labels = {});

}  // namespace ddnswatch::testing
