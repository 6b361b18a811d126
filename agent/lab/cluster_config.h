// The cluster config the lab publishes to its agents (<statedir>/cluster.json): the
// topology's `config` plus one Workload per pod, as a kubelet would publish pods.
//
// `lab label` and `lab apply` edit it live: objects with the same key (namespace/name;
// a namespace by name) are replaced, others appended, and the result is validated as a
// whole before it is written; errors about objects that came from the applied document
// are named by their place in that document.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/lab/lab_state.pb.h"
#include "common/config/document_parser.h"
#include "weft/config/v1/config.pb.h"
#include "weft/lab/v1/topology.pb.h"

namespace weft::lab {

weft::config::v1::Workload WorkloadForPod(const weft::lab::state::v1::PodState& pod);

// topology.config with the planned pods' workloads appended.
weft::config::v1::ClusterConfig BuildClusterConfig(const weft::lab::v1::Topology& topology,
                                                   const weft::lab::state::v1::LabState& plan);

// weft::config::ValidateClusterConfig on the built config, with error paths mapped back
// to the topology document: "services[0]..." -> "config.services[0]...",
// "workloads[i]..." -> "pods[i]...".
std::vector<weft::config::FieldError> ValidateBuiltClusterConfig(
    const weft::config::v1::ClusterConfig& config, const weft::config::LineIndex& topology_lines);

absl::StatusOr<weft::config::v1::ClusterConfig> ReadClusterConfig(const std::string& path);

struct MergeOutcome {
  weft::config::v1::ClusterConfig merged;
  // FormatFieldError() lines: "FILE: services[0].ports[0].port: ... (line 7)", or
  // "cluster.json: ..." for objects that were there before.
  std::vector<std::string> errors;
};

MergeOutcome MergeClusterConfig(const weft::config::v1::ClusterConfig& base,
                                const std::string& base_name,
                                const weft::config::v1::ClusterConfig& update,
                                const std::string& update_name,
                                const weft::config::LineIndex& update_lines);

}  // namespace weft::lab
