#include "agent/enrollment/enrollment_plan.h"

#include <set>

#include "common/config/dataplane_mode.h"

namespace weft::agent {
namespace {

using weft::config::v1::ClusterConfig;
using weft::config::v1::PeerAuthentication;
using weft::config::v1::Workload;

bool Selects(const PeerAuthentication& pa, const Workload& w) {
  for (const auto& [key, value] : pa.selector().match_labels()) {
    auto it = w.labels().find(key);
    if (it == w.labels().end() || it->second != value) return false;
  }
  return true;
}

InboundMode ModeOf(const PeerAuthentication& pa) {
  return pa.mode() == PeerAuthentication::STRICT ? InboundMode::kStrict
                                                 : InboundMode::kPermissive;
}

InboundMode ModeFor(const ClusterConfig& config, const Workload& w) {
  const PeerAuthentication* namespace_wide = nullptr;
  for (const PeerAuthentication& pa : config.peer_authentications()) {
    if (pa.namespace_() != w.namespace_()) continue;
    if (pa.selector().match_labels().empty()) {
      namespace_wide = &pa;
    } else if (Selects(pa, w)) {
      return ModeOf(pa);  // the most specific one wins
    }
  }
  return namespace_wide ? ModeOf(*namespace_wide) : InboundMode::kPermissive;
}

}  // namespace

EnrollmentPlan PlanEnrollment(const ClusterConfig& config, const std::string& node) {
  std::set<std::string> ambient_namespaces;
  for (const auto& ns : config.namespaces()) {
    if (config::NamespaceIsAmbient(ns)) ambient_namespaces.insert(ns.name());
  }
  EnrollmentPlan plan;
  for (const Workload& w : config.workloads()) {
    if (w.node() != node || !ambient_namespaces.count(w.namespace_())) continue;
    if (config::WorkloadOptedOut(w)) continue;
    // A workload that declares itself plain TCP is outside the mesh.
    if (w.protocol() == Workload::TCP) continue;
    EnrolledWorkload e;
    e.uid = w.uid();
    e.name = w.name();
    e.namespace_ = w.namespace_();
    e.service_account = w.service_account().empty() ? "default" : w.service_account();
    e.addresses.assign(w.addresses().begin(), w.addresses().end());
    e.mode = ModeFor(config, w);
    plan.emplace(e.uid, std::move(e));
  }
  return plan;
}

std::string_view InboundModeName(InboundMode mode) {
  return mode == InboundMode::kStrict ? "STRICT" : "PERMISSIVE";
}

}  // namespace weft::agent
