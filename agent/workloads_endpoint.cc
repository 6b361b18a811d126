#include "agent/workloads_endpoint.h"

#include "absl/strings/str_cat.h"

namespace weft::agent {

std::string SpiffeId(const std::string& trust_domain, const std::string& ns,
                     const std::string& service_account) {
  return absl::StrCat("spiffe://", trust_domain.empty() ? "cluster.local" : trust_domain, "/ns/",
                      ns, "/sa/", service_account);
}

weft::admin::v1::WorkloadsDump DumpWorkloads(const std::string& node,
                                             const EnrollmentController& controller,
                                             const config::SnapshotStore& store,
                                             const std::vector<std::string>& kernel_policies) {
  weft::admin::v1::WorkloadsDump dump;
  dump.set_node(node);
  auto snapshot = store.Current();
  std::string trust_domain;
  if (snapshot) {
    dump.set_config_version(snapshot->version);
    trust_domain = snapshot->config.mesh().trust_domain();
  }
  for (const EnrolledPod& pod : controller.Enrolled()) {
    const EnrolledWorkload& w = pod.workload;
    auto* info = dump.add_workloads();
    info->set_uid(w.uid);
    info->set_name(w.name);
    info->set_namespace_(w.namespace_);
    info->set_service_account(w.service_account);
    info->set_identity(SpiffeId(trust_domain, w.namespace_, w.service_account));
    for (const std::string& a : w.addresses) info->add_addresses(a);
    info->set_netns_cookie(pod.netns_cookie);
    info->set_workload_id(pod.workload_id);
    info->set_mode(std::string(InboundModeName(w.mode)));
  }
  for (const std::string& policy : kernel_policies) dump.add_kernel_policies(policy);
  return dump;
}

}  // namespace weft::agent
