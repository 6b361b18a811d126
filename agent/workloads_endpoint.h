// /debug/workloads on the agent's admin port: the pods this agent has enrolled —
// what `weftctl workloads` prints.
#pragma once

#include <string>

#include "agent/enrollment/enrollment_controller.h"
#include "common/config/config_snapshot.h"
#include "weft/admin/v1/agent_debug.pb.h"

namespace weft::agent {

weft::admin::v1::WorkloadsDump DumpWorkloads(const std::string& node,
                                             const EnrollmentController& controller,
                                             const config::SnapshotStore& store,
                                             const std::vector<std::string>& kernel_policies);

// spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>
std::string SpiffeId(const std::string& trust_domain, const std::string& ns,
                     const std::string& service_account);

}  // namespace weft::agent
