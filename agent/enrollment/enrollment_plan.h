// Which of a node's workloads the mesh captures, decided from one config snapshot:
// a workload on this node is enrolled when its namespace carries
// weft.dev/dataplane-mode=ambient and the workload itself does not say
// weft.dev/dataplane-mode=none. Its inbound mTLS mode comes from the
// PeerAuthentications: one that selects the workload beats the namespace-wide one;
// none means PERMISSIVE.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/config/dataplane_mode.h"
#include "weft/config/v1/config.pb.h"

namespace weft::agent {

using config::InboundMode;
using config::InboundModeName;

struct EnrolledWorkload {
  std::string uid;
  std::string name;
  std::string namespace_;
  std::string service_account;
  std::vector<std::string> addresses;
  InboundMode mode = InboundMode::kPermissive;

  bool operator==(const EnrolledWorkload&) const = default;
};

// Keyed by workload uid.
using EnrollmentPlan = std::map<std::string, EnrolledWorkload>;

EnrollmentPlan PlanEnrollment(const weft::config::v1::ClusterConfig& config,
                              const std::string& node);

}  // namespace weft::agent
