// The lab mesh_bench measures on, driven through `weftctl lab` like an operator would:
// `lab up TOPOLOGY --name LAB --detach` on creation, `lab down` on destruction (also on
// error and after Ctrl-C), `lab label namespace NS weft.dev/dataplane-mode=ambient|-` to
// switch between the mesh and direct modes, and the agents' /debug/workloads to know when
// a switch has taken effect. What the lab made is read from its state.json.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/lab/lab_state.pb.h"
#include "bench/mesh_pod_process.h"

namespace weft::bench {

struct MeshLabOptions {
  std::string weftctl;   // path of the weftctl binary (weft-agent, weft-ztunnel next to it)
  std::string topology;  // deploy/lab/two-node.yaml
  std::string name;      // lab name, [a-z0-9]{1,10}
  absl::Duration up_timeout = absl::Seconds(90);
};

class MeshLab {
 public:
  using LabState = weft::lab::state::v1::LabState;
  using NodeState = weft::lab::state::v1::NodeState;
  using PodState = weft::lab::state::v1::PodState;

  // Removes a leftover lab of the same name first, then brings the lab up and checks
  // every node runs a ztunnel. On failure the partial lab is taken down again.
  static absl::StatusOr<std::unique_ptr<MeshLab>> Up(const MeshLabOptions& options);
  // Uses a lab that is already running (`lab up` by someone else): reads its state and
  // leaves it running when destroyed. options.topology is unused.
  static absl::StatusOr<std::unique_ptr<MeshLab>> Attach(const MeshLabOptions& options);
  ~MeshLab();  // `lab down` after Up; failures are printed, not returned
  MeshLab(const MeshLab&) = delete;
  MeshLab& operator=(const MeshLab&) = delete;

  const std::string& name() const { return options_.name; }
  // state.json as read at `up`.
  const LabState& state() const { return state_; }
  // state.json as it is now: pids change when the supervisor restarts a crashed process.
  absl::StatusOr<LabState> ReadState() const;

  // `name` is "pod" (first pod of that name) or "namespace/pod".
  absl::StatusOr<PodState> Pod(const std::string& name) const;
  absl::StatusOr<NodeState> Node(const std::string& name) const;
  // Where a process must go to act as `pod`: its netns, and its cgroup when `join_cgroup`.
  absl::StatusOr<PodPlacement> Placement(const std::string& pod, bool join_cgroup) const;

  // Labels namespace `ns` into (`ambient`) or out of the mesh, then waits until every
  // pod of `ns` is enrolled by its node's agent (or no pod of `ns` is, on any node).
  absl::Status SetAmbient(const std::string& ns, bool ambient, absl::Duration timeout);

 private:
  explicit MeshLab(MeshLabOptions options) : options_(std::move(options)) {}
  absl::Status Weftctl(const std::vector<std::string>& args, absl::Duration timeout,
                       std::string* output = nullptr) const;
  // Pods of `ns` ("ns/name") enrolled on any node right now.
  absl::StatusOr<std::vector<std::string>> EnrolledPods(const std::string& ns) const;

  // Every node runs a ztunnel (the mesh needs one per node).
  absl::Status CheckZtunnels() const;

  MeshLabOptions options_;
  LabState state_;
  bool up_ = false;
};

}  // namespace weft::bench
