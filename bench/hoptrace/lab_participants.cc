#include "bench/hoptrace/lab_participants.h"

#include "absl/strings/str_cat.h"
#include "agent/lab/state_store.h"

namespace weft::hoptrace {
namespace {

using weft::lab::state::v1::LabState;
using weft::lab::state::v1::NodeState;
using weft::lab::state::v1::PodState;

absl::StatusOr<NodeState> NodeOf(const LabState& state, const PodState& pod) {
  for (const NodeState& node : state.nodes()) {
    if (node.name() == pod.node()) return node;
  }
  return absl::NotFoundError(absl::StrCat("hoptrace: lab ", state.name(), " has no node \"",
                                          pod.node(), "\" (pod ", pod.namespace_(), "/", pod.name(),
                                          ")"));
}

absl::StatusOr<HopParticipant> PodApp(const std::string& name, const PodState& pod) {
  absl::StatusOr<uint64_t> cgroup = CgroupIdOf(pod.cgroup());
  if (!cgroup.ok()) return cgroup.status();
  HopParticipant p;
  p.name = name;
  p.cgroup_ids = {*cgroup};
  return p;
}

// The ztunnel serving `pod`: one process per node, told apart per pod by the netns its
// sockets live in (ztunnel opens them inside the pod's netns).
absl::StatusOr<HopParticipant> PodZtunnel(const std::string& name, const LabState& state,
                                          const PodState& pod) {
  absl::StatusOr<NodeState> node = NodeOf(state, pod);
  if (!node.ok()) return node.status();
  absl::StatusOr<uint64_t> cgroup = CgroupIdOf(node->ztunnel().cgroup());
  if (!cgroup.ok()) return cgroup.status();
  absl::StatusOr<uint64_t> netns = NetnsInodeOf(absl::StrCat("/run/netns/", pod.netns()));
  if (!netns.ok()) return netns.status();
  HopParticipant p;
  p.name = name;
  p.cgroup_ids = {*cgroup};
  p.netns_inode = *netns;
  return p;
}

}  // namespace

absl::StatusOr<std::vector<HopParticipant>> LabParticipants(const std::string& lab,
                                                            const std::string& from,
                                                            const std::string& to) {
  absl::StatusOr<LabState> state = weft::lab::LoadState(lab);
  if (!state.ok()) return state.status();
  absl::StatusOr<PodState> client = weft::lab::FindPod(*state, from);
  if (!client.ok()) return client.status();
  absl::StatusOr<PodState> server = weft::lab::FindPod(*state, to);
  if (!server.ok()) return server.status();

  std::vector<absl::StatusOr<HopParticipant>> parts;
  parts.push_back(PodApp("client app", *client));
  if (state->ztunnel()) {
    parts.push_back(PodZtunnel("client ztunnel", *state, *client));
    parts.push_back(PodZtunnel("server ztunnel", *state, *server));
  }
  parts.push_back(PodApp("server app", *server));
  std::vector<HopParticipant> participants;
  for (absl::StatusOr<HopParticipant>& p : parts) {
    if (!p.ok()) return p.status();
    participants.push_back(*std::move(p));
  }
  return participants;
}

}  // namespace weft::hoptrace
