// Removes everything a lab may have created, from its state file where there is one and
// from what is visible on the machine otherwise (/run/netns, the cgroup tree, bpffs
// pins), so it also cleans up after a crash in the middle of `lab up`. Idempotent.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "agent/lab/lab_state.pb.h"

namespace weft::lab {

struct TeardownReport {
  std::vector<std::string> removed;   // "netns weft-x-node-a", "cgroup /sys/...", ...
  std::vector<std::string> problems;  // what could not be removed, and why
};

// Kills every process in the lab's cgroup subtree, deletes the lab's network
// namespaces, removes its cgroup tree and its bpffs pins. Does not touch the state
// directory (the caller removes it last, holding the lab lock).
TeardownReport TeardownLab(const std::string& lab,
                           const std::optional<weft::lab::state::v1::LabState>& state);

// Sends SIGTERM to the lab's agents and waits up to `grace` for them to leave,
// so they can unpin and flush before TeardownLab kills what is left.
void StopAgentsGracefully(const weft::lab::state::v1::LabState& state, int grace_ms);

}  // namespace weft::lab
