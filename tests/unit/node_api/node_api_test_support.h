// Shared pieces of the node API tests: cluster configs, waiting for another thread, metrics.
#pragma once

#include <functional>
#include <string>

#include "absl/time/time.h"
#include "common/admin/metrics_registry.h"
#include "weft/config/v1/config.pb.h"

namespace weft::nodeapi_testing {

// A config with `trust_domain` and the given workloads (uid, namespace, service account, node).
struct WorkloadSpec {
  std::string uid, ns, service_account, node;
};
weft::config::v1::ClusterConfig MakeConfig(const std::string& trust_domain,
                                           const std::vector<WorkloadSpec>& workloads);

// Polls `condition` every millisecond until it holds or `timeout` passes; returns the last value.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(5));

// The value of one series in the registry's text output, or -1 when absent. `series` is the
// exact text before the value, e.g. weft_x_total{result="ok"}.
double MetricValue(const admin::MetricsRegistry& registry, const std::string& series);

}  // namespace weft::nodeapi_testing
