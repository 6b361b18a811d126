// Finds where the kernel filesystems weft needs are mounted (cgroup2, bpffs), from
// /proc/self/mountinfo: hosts differ (/sys/fs/cgroup vs /sys/fs/cgroup/unified on a
// hybrid hierarchy), so nothing is hard-coded.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weft::host {

// Mount point of the first mount of filesystem type `fstype` ("cgroup2", "bpf").
// NotFound when there is none.
absl::StatusOr<std::string> FindMountOfType(absl::string_view fstype);

// The cgroup2 mount point; an error when cgroup v2 is not mounted.
absl::StatusOr<std::string> Cgroup2MountPoint();

// The bpffs mount point; mounts bpffs at /sys/fs/bpf when none is mounted.
absl::StatusOr<std::string> EnsureBpffsMounted();

}  // namespace weft::host
