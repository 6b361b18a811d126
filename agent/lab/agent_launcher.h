// Starts one node's weft-agent the way a DaemonSet would run it on a real node: inside
// the node's network namespace, in its own cgroup (<lab cgroup>/system/agent-<node>),
// with the node's cgroup subtree as its --cgroup-root and a lab-unique --instance so
// its bpffs pins never meet another node's.
//
// A pid alone is not an identity: after a crash the pid in state.json may belong to an
// unrelated process. (pid, start time) is, so the lab signals only what it started.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/lab/lab_state.pb.h"

namespace weft::lab {

// $WEFT_AGENT_BIN, else weft-agent next to this executable (/proc/self/exe).
absl::StatusOr<std::string> FindAgentBinary();
// $WEFT_ZTUNNEL_BIN, else weft-ztunnel next to this executable.
absl::StatusOr<std::string> FindZtunnelBinary();
// $<env_var>, else `name` next to this executable.
absl::StatusOr<std::string> FindNodeBinary(const std::string& name, const char* env_var);

// The agent's command line for `node`.
std::vector<std::string> AgentArgv(const std::string& binary,
                                   const weft::lab::state::v1::LabState& lab,
                                   const weft::lab::state::v1::NodeState& node);

// Forks and execs the agent; stdout/stderr append to node.log_path(). The agent gets
// SIGKILL when the calling thread exits (PR_SET_PDEATHSIG), so it cannot outlive a
// supervisor that was killed. Problems after fork are written to the agent's log and
// show as exit status 126 (setup) or 127 (exec).
absl::StatusOr<pid_t> StartAgent(const std::string& binary,
                                 const weft::lab::state::v1::LabState& lab,
                                 const weft::lab::state::v1::NodeState& node);

// The node's weft-ztunnel, the same way: node netns, its own cgroup (the agent's
// --getsockopt-cgroup), output appended to node.ztunnel().log_path().
std::vector<std::string> ZtunnelArgv(const std::string& binary,
                                     const weft::lab::state::v1::LabState& lab,
                                     const weft::lab::state::v1::NodeState& node);
absl::StatusOr<pid_t> StartZtunnel(const std::string& binary,
                                   const weft::lab::state::v1::LabState& lab,
                                   const weft::lab::state::v1::NodeState& node);

// Forks and execs argv[0] in the node's netns and `cgroup`, output to `log_path`.
absl::StatusOr<pid_t> StartNodeProcess(std::vector<std::string> argv,
                                       const weft::lab::state::v1::NodeState& node,
                                       const std::string& cgroup, const std::string& log_path);

// Field 22 of /proc/<pid>/stat (clock ticks since boot).
absl::StatusOr<uint64_t> ProcessStartTime(pid_t pid);

// True when `pid` is alive (not a zombie) and started at `start_time` (0: any time).
bool IsSameProcess(pid_t pid, uint64_t start_time);

}  // namespace weft::lab
