// Turns the loopback sk_msg short-circuit of a running lab's agents on or off, for the
// `mesh` / `mesh-nosockmap` modes. It works on the agents' pinned objects the way an
// agent does at start (agent/bpf/inbound/loopback_short_circuit.h): attaching adopts or
// creates the pinned sockops link, detaching unpins it and empties the SOCKHASH, so open
// connections fall back to TCP and stay up. The agents keep enrolling pods into the
// pinned netns map either way. An agent that restarts re-applies its own
// --loopback-short-circuit flag; the suite restores the state it found when it ends.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/lab/lab_state.pb.h"

namespace weft::bench {

class ShortCircuitSwitch {
 public:
  // Records whether each node's short-circuit is attached now.
  static absl::StatusOr<ShortCircuitSwitch> ForLab(const weft::lab::state::v1::LabState& lab);
  // Loads and applies only when the state changes: the modes alternate every run.
  absl::Status Set(bool enabled);
  // Back to what ForLab found.
  absl::Status Restore();

 private:
  struct Node {
    std::string pin_dir;
    std::string cgroup_root;
    std::string ztunnel_cgroup;
    bool enabled_at_start = false;
  };
  std::vector<Node> nodes_;
  std::optional<bool> applied_;  // what Set last applied to every node
};

}  // namespace weft::bench
