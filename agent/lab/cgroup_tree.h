// The lab's cgroup v2 subtree: <cgroup2>/weft-lab-<lab>/{<node>/<ns>-<pod>, system/agent-<node>}.
// No controllers are enabled: the tree exists so that the agent's cgroup programs see
// each node's pods under its own --cgroup-root, and so that `lab down` can find and
// kill every process the lab started, whatever happened to the supervisor.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weft::lab {

// mkdir -p; existing directories are fine.
absl::Status CreateCgroup(const std::string& path);

// Moves `pid` (0: the caller) into the cgroup at `path`.
absl::Status JoinCgroup(const std::string& path, pid_t pid);

// Every pid in `path` and its descendants; empty when `path` does not exist.
absl::StatusOr<std::vector<pid_t>> PidsInCgroupTree(const std::string& path);

// Sends `signal` to every process of the subtree.
absl::Status SignalCgroupTree(const std::string& path, int signal);

// Kills every process of the subtree (cgroup.kill, or SIGKILL per pid where the kernel
// has no cgroup.kill) and waits up to `timeout` for the subtree to empty.
absl::Status KillCgroupTree(const std::string& path, absl::Duration timeout);

// rmdir of the subtree, deepest first; a missing tree is fine.
absl::Status RemoveCgroupTree(const std::string& path);

}  // namespace weft::lab
