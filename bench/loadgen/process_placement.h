// Puts the load generator process where a benchmark wants it before any socket exists:
// into a cgroup (so weft's cgroup BPF programs treat its sockets as a pod's), into a
// network namespace (so it can run as "a pod" of the lab), and onto one CPU.
// Each must run while the process is single-threaded: setns(CLONE_NEWNET) moves only the
// calling thread, and weft-loadgen never starts another.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace weft::loadgen {

// Writes our pid into `cgroup_dir`/cgroup.procs (cgroup v2).
absl::Status JoinCgroup(const std::string& cgroup_dir);
// Enters the network namespace at `netns_path` (e.g. /var/run/netns/NAME).
absl::Status EnterNetns(const std::string& netns_path);
// Pins the calling thread to `cpu`.
absl::Status PinToCpu(int cpu);

}  // namespace weft::loadgen
