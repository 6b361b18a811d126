// Finds the network namespaces of the pods below a cgroup root, CNI-agnostically:
// every process in the subtree (in Kubernetes at least the pod's pause container;
// in the lab its pause process) points at its pod's netns through
// /proc/<pid>/ns/net. Each distinct netns is entered once, in a short-lived
// thread, to read its interface addresses (which identify the pod: a workload's
// addresses) and its netns cookie (which identifies it to BPF programs).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace weft::agent {

struct PodNetns {
  uint64_t inode = 0;   // st_ino of the nsfs file: the netns identity for this kernel
  uint64_t cookie = 0;  // SO_NETNS_COOKIE, what bpf_get_netns_cookie() returns
  std::vector<std::string> addresses;  // global addresses of its interfaces
  std::string cgroup;                  // cgroup directory a member process was found in
  std::shared_ptr<int> fd;             // open netns fd (closed when the last holder lets go)
  std::string pid;  // a process in this netns as of the scan
  // TCP ports with a listener serving loopback (127.0.0.1, ::1 or a wildcard) in this
  // netns (ztunnel's outbound listener among them once it serves the pod). Not filled
  // by Scan: reading them costs a walk of the netns's socket table, so it is done only
  // for the pods that wait for their listener (LoopbackListeners(pid)).
  std::vector<uint16_t> loopback_listeners;
};

// Loopback TCP listeners of the netns process `pid` lives in, from
// /proc/<pid>/net/tcp{,6} (which show the reader's view of that netns).
std::vector<uint16_t> LoopbackListeners(const std::string& pid);

// Reads one netns (by open fd): addresses and cookie.
absl::StatusOr<PodNetns> InspectNetns(int netns_fd);

class PodNetnsDiscovery {
 public:
  explicit PodNetnsDiscovery(std::string cgroup_root) : cgroup_root_(std::move(cgroup_root)) {}

  // Walks the cgroup subtree and returns every pod netns found, keyed by inode.
  // Known namespaces are not entered again; ones no longer seen are forgotten
  // (their fds closed, so a deleted pod's netns is not kept alive). The caller's
  // own netns and the host's are never reported.
  absl::StatusOr<std::map<uint64_t, PodNetns>> Scan();

 private:
  std::string cgroup_root_;
  std::map<uint64_t, PodNetns> known_;
};

}  // namespace weft::agent
