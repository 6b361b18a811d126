// A forked child that runs "as a pod" of the lab: it joins the pod's cgroup (only sockets
// of processes in a pod cgroup are captured: the agent's connect4 and sk hooks are cgroup
// programs) and enters the pod's network namespace, then runs a body that talks to the
// benchmark over a line-based channel. mesh_bench's own small version of the integration
// tests' pod process (bench does not link test code).
//
// The child dies with the benchmark (PR_SET_PDEATHSIG) and is killed and reaped when its
// MeshPodProcess is destroyed. It keeps only stdio and the channel (fd 3).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weft::bench {

struct PodPlacement {
  std::string netns_path;  // /run/netns/<pod netns>
  std::string cgroup_dir;  // absolute cgroup directory to join; empty: stay outside
};

class MeshPodProcess {
 public:
  // Forks; the child joins `placement`, raises its open-file limit to the hard limit
  // (idle-connection scenario) and exits with body(channel_fd). The first line the body
  // writes must be "ready"; Start waits up to `ready_timeout_ms` for it.
  static absl::StatusOr<std::unique_ptr<MeshPodProcess>> Start(const PodPlacement& placement,
                                                               std::function<int(int channel)> body,
                                                               int ready_timeout_ms = 5000);
  ~MeshPodProcess();
  MeshPodProcess(const MeshPodProcess&) = delete;
  MeshPodProcess& operator=(const MeshPodProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `line` and returns the child's one-line reply (without '\n').
  absl::StatusOr<std::string> Call(const std::string& line, int timeout_ms);

 private:
  MeshPodProcess(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  absl::StatusOr<std::string> ReadLine(int timeout_ms);

  pid_t pid_;
  int fd_;
  std::string buffer_;
};

// Helpers for child bodies: one '\n'-terminated line to / from the channel. ReadChannelLine
// returns false on EOF or error (the benchmark went away or closed the channel).
bool WriteChannelLine(int channel, const std::string& line);
bool ReadChannelLine(int channel, std::string* line);

}  // namespace weft::bench
