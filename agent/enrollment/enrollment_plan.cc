#include "agent/enrollment/enrollment_plan.h"

namespace weft::agent {

EnrollmentPlan PlanEnrollment(const weft::config::v1::ClusterConfig& config,
                              const std::string& node) {
  const std::set<std::string> ambient = config::AmbientNamespaces(config);
  EnrollmentPlan plan;
  for (const weft::config::v1::Workload& w : config.workloads()) {
    if (w.node() != node || !config::WorkloadInMesh(ambient, w)) continue;
    EnrolledWorkload e;
    e.uid = w.uid();
    e.name = w.name();
    e.namespace_ = w.namespace_();
    e.service_account = w.service_account().empty() ? "default" : w.service_account();
    e.addresses.assign(w.addresses().begin(), w.addresses().end());
    e.mode = config::InboundModeFor(config, w);
    plan.emplace(e.uid, std::move(e));
  }
  return plan;
}

}  // namespace weft::agent
