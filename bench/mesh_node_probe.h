// What mesh_bench reads from a lab node while it runs: the agent's enrolled pods, the
// ztunnel's resident memory, and the ztunnel's connection counters (which tell whether a
// connection really went through the mesh). Admin ports listen on the node's underlay
// address, which exists only inside the node netns, so requests are made from there.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "agent/lab/lab_state.pb.h"
#include "weft/admin/v1/agent_debug.pb.h"

namespace weft::bench {

// GET /debug/workloads from the node's agent.
absl::StatusOr<weft::admin::v1::WorkloadsDump> ReadEnrolledWorkloads(
    const weft::lab::state::v1::NodeState& node);

// VmRSS of `pid` in KiB, from /proc/<pid>/status. It counts every shared-library page the
// process touched (for ztunnel most of its idle RSS), so RssAnon is read alongside.
absl::StatusOr<double> ReadRssKib(pid_t pid);
// RssAnon of `pid` in KiB: its own heap, stacks and buffers.
absl::StatusOr<double> ReadRssAnonKib(pid_t pid);

// Sum over every series of counter `metric` on the node ztunnel's /metrics (0 when the
// family has no series yet).
absl::StatusOr<double> ReadZtunnelCounter(const weft::lab::state::v1::NodeState& node,
                                          const std::string& metric);

// Sum of every sample of `metric` in a Prometheus text exposition.
double SumOfSamples(const std::string& exposition, const std::string& metric);

}  // namespace weft::bench
