#include "exporters/metrics.h"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace ddnswatch::exporters {

struct Metrics::Impl {
  prometheus::Registry registry;
  prometheus::Gauge* reload_successful = nullptr;
  prometheus::Gauge* reload_success_timestamp = nullptr;
};

Metrics::Metrics(const BuildInfo& build) : impl_(std::make_unique<Impl>()) {
  auto& r = impl_->registry;
  // prometheus-cpp 1.0 has no Info type: a gauge fixed at 1 carries the labels.
  prometheus::BuildGauge()
      .Name("ddnswatch_build_info")
      .Help("Build information of the running ddnswatch; the value is always 1.")
      .Register(r)
      .Add({{"version", build.version}, {"revision", build.revision}})
      .Set(1);
  impl_->reload_successful =
      &prometheus::BuildGauge()
           .Name("ddnswatch_config_last_reload_successful")
           .Help(
               "Whether the last attempt to load the configuration succeeded (1) or was "
               "rejected (0).")
           .Register(r)
           .Add({});
  impl_->reload_success_timestamp =
      &prometheus::BuildGauge()
           .Name("ddnswatch_config_last_reload_success_timestamp_seconds")
           .Help("Unix time of the last successful configuration load.")
           .Register(r)
           .Add({});
}

Metrics::~Metrics() = default;

void Metrics::config_loaded(bool ok, WallTime when) {
  impl_->reload_successful->Set(ok ? 1 : 0);
  if (ok) impl_->reload_success_timestamp->Set(to_unix_seconds(when));
}

std::string Metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, impl_->registry.Collect());
  return std::move(out).str();
}

}  // namespace ddnswatch::exporters
