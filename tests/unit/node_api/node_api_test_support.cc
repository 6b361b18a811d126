#include "tests/unit/node_api/node_api_test_support.h"

#include <sstream>
#include <thread>

namespace weft::nodeapi_testing {

weft::config::v1::ClusterConfig MakeConfig(const std::string& trust_domain,
                                           const std::vector<WorkloadSpec>& workloads) {
  weft::config::v1::ClusterConfig config;
  config.mutable_mesh()->set_trust_domain(trust_domain);
  for (const WorkloadSpec& spec : workloads) {
    auto* w = config.add_workloads();
    w->set_uid(spec.uid);
    w->set_name(spec.uid);
    w->set_namespace_(spec.ns);
    w->set_service_account(spec.service_account);
    w->set_node(spec.node);
  }
  return config;
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

double MetricValue(const admin::MetricsRegistry& registry, const std::string& series) {
  std::istringstream text(registry.SerializeText());
  std::string line;
  while (std::getline(text, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

}  // namespace weft::nodeapi_testing
