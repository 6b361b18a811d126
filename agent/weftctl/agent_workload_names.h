// Names for the ids the kernel counts by (workload id, netns cookie), from a node
// agent's /debug/workloads. The maps alone only hold numbers; the agent is the one
// that handed them out.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "agent/weftctl/bpf_instance_selection.h"

namespace weft::weftctl {

struct WorkloadNames {
  std::string node;                           // as the agent reports it
  std::map<uint32_t, std::string> by_id;      // workload id -> "namespace/name"
  std::map<uint64_t, std::string> by_cookie;  // netns cookie -> "namespace/name"
  std::map<uint32_t, std::string> policies;   // in-kernel policy id -> "namespace/name"
};

// Unavailable when the instance has no known admin address or the agent does not
// answer; the caller then prints ids only and says why.
absl::StatusOr<WorkloadNames> FetchWorkloadNames(const AgentInstance& instance);

}  // namespace weft::weftctl
