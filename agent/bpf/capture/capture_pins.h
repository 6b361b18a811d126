// The bpffs side of the capture family's lifecycle: which pinned maps a new agent
// may adopt, pinning what it created, attaching programs as pinned bpf_links that
// a restarted agent updates in place, and removing all of it on uninstall.
//
// Layout under the instance's pin dir:
//   <pin_dir>/maps/<map name>    every non-internal map of the object
//   <pin_dir>/links/<link name>  one cgroup bpf_link per (program, cgroup)
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weft::bpf::capture {

std::string MapsDir(const std::string& pin_dir);
std::string LinksDir(const std::string& pin_dir);

// Creates `dir` and its parents (bpffs or not); OK when it already exists.
absl::Status MakeDirs(const std::string& dir);

// Before load: when <maps_dir>/<settings_map> holds `layout_version` and every
// pinned map matches its definition in `obj` (type, key/value size, max entries,
// flags), makes `obj` reuse all of them and returns true. Otherwise removes the
// stale pins (programs still attached keep their old maps alive until their links
// are updated) and returns false: the maps are created afresh by load.
absl::StatusOr<bool> ReusePinnedMaps(bpf_object* obj, const std::string& maps_dir,
                                     const std::string& settings_map, uint32_t layout_version);

// After load: pins every map not already pinned at <maps_dir>/<name>.
absl::Status PinMaps(bpf_object* obj, const std::string& maps_dir);

// Makes `prog` the program behind the pinned link <links_dir>/<link_name> on
// `cgroup_fd`: updates that link in place when it exists and is attached to the
// same cgroup, otherwise detaches it and attaches (and pins) a new link. Never
// leaves two links of this program on the cgroup. Returns the owned link.
absl::StatusOr<bpf_link*> AttachOrUpdateCgroupLink(bpf_program* prog, int cgroup_fd,
                                                   const std::string& links_dir,
                                                   const std::string& link_name);

// Detaches and unpins <links_dir>/<link_name> if it exists (a link a previous
// configuration needed and this one does not).
absl::Status DetachPinnedLink(const std::string& links_dir, const std::string& link_name);

// Detaches every link pinned under <pin_dir>/links, then unpins links and maps and
// removes the directories. Missing pin_dir is not an error.
absl::Status RemovePinDir(const std::string& pin_dir);

}  // namespace weft::bpf::capture
