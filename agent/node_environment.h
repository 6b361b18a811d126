// The host resources one agent instance owns: a cgroup v2 subtree (where the pods
// it manages live and where its BPF programs will attach) and a directory under a
// BPF filesystem (<bpffs>/weft/<instance>/) where its programs and maps are pinned.
// Separate instances (lab nodes) share one kernel without seeing each other.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace weft::agent {

struct NodeEnvironmentOptions {
  std::string cgroup_root;  // a directory on a cgroup2 filesystem
  std::string bpffs;        // a BPF filesystem mount, e.g. /sys/fs/bpf
  std::string instance;     // [a-z0-9-], names the pin directory
};

class NodeEnvironment {
 public:
  // Checks that cgroup_root is on cgroup2 and bpffs is a BPF filesystem (mounting
  // one there if the directory is empty and not a mount), and creates the pin
  // directory. Errors name the path and what was wrong with it.
  static absl::StatusOr<NodeEnvironment> Prepare(const NodeEnvironmentOptions& options);

  // <bpffs>/weft/<instance>
  static std::string PinDir(const NodeEnvironmentOptions& options);

  // Removes <bpffs>/weft/<instance>/ and everything pinned below it.
  static absl::Status Uninstall(const NodeEnvironmentOptions& options);

  const std::string& cgroup_root() const { return cgroup_root_; }
  const std::string& pin_dir() const { return pin_dir_; }

 private:
  std::string cgroup_root_;
  std::string pin_dir_;
};

absl::Status CheckInstanceName(const std::string& instance);

}  // namespace weft::agent
