// Prometheus series describing the agent's config source: reload attempts by
// outcome and the snapshot version in force.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <memory>

#include "absl/status/statusor.h"
#include "common/admin/metrics_registry.h"
#include "common/config/config_source.h"

namespace weft::agent {

class ConfigMetrics {
 public:
  static absl::StatusOr<std::unique_ptr<ConfigMetrics>> Create(admin::MetricsRegistry& registry);

  // Feeds one reload outcome (any thread; prometheus-cpp metrics are atomic).
  void Record(const config::ReloadOutcome& outcome);

 private:
  ConfigMetrics() = default;

  prometheus::Counter* applied_ = nullptr;
  prometheus::Counter* unchanged_ = nullptr;
  prometheus::Counter* rejected_ = nullptr;
  prometheus::Counter* read_error_ = nullptr;
  prometheus::Gauge* version_ = nullptr;
  prometheus::Gauge* last_applied_ = nullptr;
};

}  // namespace weft::agent
