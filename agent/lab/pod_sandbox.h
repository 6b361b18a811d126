// A pod's sandbox, the lab's equivalent of Kubernetes' pause container: one process that
// lives in the pod's cgroup and network namespace from `lab up` to `lab down`. The node
// agent finds a pod's netns by scanning the processes of the pod cgroups under its
// --cgroup-root (/proc/<pid>/ns/net), so a pod must never be without a process, even
// while nothing else runs in it.
//
// The sandbox is a fork of the supervisor without exec: it needs no binary, and its
// /proc/<pid>/cmdline (the supervisor's, with `--name <lab>`) tells whose lab it is.
// Its comm is "weft-pause". Like the agents it gets PR_SET_PDEATHSIG(SIGKILL), so it
// dies with a killed supervisor; `lab down` kills it with the lab's cgroup subtree.
#pragma once

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "agent/lab/lab_state.pb.h"

namespace weft::lab {

// comm of every sandbox process (at most 15 characters: the kernel's TASK_COMM_LEN).
inline constexpr char kSandboxProcessName[] = "weft-pause";

// Forks the sandbox of `pod` and returns once it has joined the pod's cgroup and
// netns, so whatever starts next (the agents) already sees it. Fails, naming the step,
// when the child could not get there; the child has then exited (reap it as usual).
// Setup problems are also written to the caller's stderr by the child.
absl::StatusOr<pid_t> StartPodSandbox(const weft::lab::state::v1::PodState& pod);

}  // namespace weft::lab
