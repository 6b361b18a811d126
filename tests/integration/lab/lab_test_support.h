// Helpers for the lab integration tests: running weftctl, reading a lab's state, opening
// sockets inside a pod's network namespace, and finding anything a lab left behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "agent/lab/lab_state.pb.h"

namespace weft::lab::testing {

struct ProcessResult {
  int exit_code = -1;  // 128+signal when killed
  std::string out;
  std::string err;
};

// Runs argv (no shell) with stdin from /dev/null; kills it after `timeout_s`.
ProcessResult RunProcess(const std::vector<std::string>& argv, int timeout_s = 90);

// ${WEFT_BINARY_DIR}/agent/weftctl
std::string WeftctlPath();
ProcessResult Weftctl(const std::vector<std::string>& args, int timeout_s = 90);

// Starts `weftctl ARGS` without waiting; returns its pid (stdout/stderr to /dev/null).
pid_t SpawnWeftctl(const std::vector<std::string>& args);

// deploy/lab/two-node.yaml in the source tree.
std::string TwoNodeTopologyPath();

// "<tag><pid>" fitting [a-z0-9]{1,10}, unique across concurrently running tests.
std::string UniqueLabName(const std::string& tag);

// state.json of a lab, or an empty state when it cannot be read.
weft::lab::state::v1::LabState ReadLabState(const std::string& lab);

// Mount point of filesystem type `fstype` ("cgroup2", "bpf") from /proc/self/mountinfo;
// "" when there is none.
std::string MountOfType(const std::string& fstype);

bool ProcessAlive(pid_t pid);

// /proc/<pid>/comm without the newline; "" when the process is gone.
std::string ProcessComm(pid_t pid);

// The processes listed in <cgroup>/cgroup.procs (not its children's).
std::vector<pid_t> PidsInCgroup(const std::string& cgroup);

// Inode of a namespace file (/run/netns/<name>, /proc/<pid>/ns/net); 0 when missing.
// Two such files name the same namespace exactly when their inodes are equal.
uint64_t NamespaceInode(const std::string& path);

// socket(2) created inside network namespace /run/netns/<netns>.
int SocketInNetns(const std::string& netns, int type);

// Links of the host network namespace whose alias marks them as the lab's.
std::vector<std::string> HostLinksWithLabAlias(const std::string& lab);

// Everything of `lab` still on the machine: network namespaces, host links, its cgroup
// directory, processes in its cgroups or started with its agent instance names, the
// state directory and bpffs pins, and pod sandboxes ("weft-pause", forks of the lab's
// supervisor, so their cmdline carries `--name <lab>`) wherever they are. `pids` (supervisor,
// agents) must be gone too.
std::vector<std::string> FindLeftovers(const std::string& lab, const std::vector<pid_t>& pids);

// Waits up to `timeout_ms` for `predicate` to hold.
template <typename Predicate>
bool WaitUntil(Predicate predicate, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace weft::lab::testing
