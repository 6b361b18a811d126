// bpffs bookkeeping shared by the inbound loaders: where a program family's maps and
// links are pinned, how a layout version travels with pinned maps, and how a family's
// pins are removed. bpffs holds only pinned objects and directories, so the layout
// version is part of the maps directory's name (`maps_v<N>`).
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/status/errno_status.h"
#include "absl/status/statusor.h"

namespace weft::bpf {

// Creates `path` and its missing parents (mode 0700).
absl::Status MakeDirs(const std::string& path);

// Removes `path` and everything under it (unpinning objects); OK when absent.
absl::Status RemovePinTree(const std::string& path);

// Detaches the bpf_link pinned at `path` at once (BPF_LINK_DETACH: dropping the last
// reference would detach it later, from a kernel workqueue) and unpins it. A pin that
// is not a link is just unpinned. OK when absent.
absl::Status DetachAndUnpinLink(const std::string& path);

// Uninstall of one program family: detaches and unpins every link pinned directly in
// `family_dir`, then removes the directory with its map pins.
absl::Status RemoveFamilyPins(const std::string& family_dir);

// `<family_dir>/maps_v<layout_version>`.
std::string MapsDir(const std::string& family_dir, uint32_t layout_version);

// Points every map of a not-yet-loaded object at `<maps_dir>/<map name>`, so that
// loading reuses a pinned map of the same layout and pins new ones.
absl::Status PinMapsUnder(bpf_object* obj, const std::string& maps_dir);

// Removes `maps_v<N>` directories of `family_dir` other than the current version: once
// the links use the new programs nothing reads the old maps.
absl::Status RemoveStaleMapDirs(const std::string& family_dir, uint32_t layout_version);

// Names of the entries of `dir` (empty when `dir` does not exist).
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir);


}  // namespace weft::bpf
