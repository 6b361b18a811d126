// Reads the BPF maps a node agent pinned under <bpffs>/weft/<instance>/, for weftctl's
// `bpf maps` and `bpf stats`. Maps are opened read-only where the kernel allows it, so
// inspecting a live agent never changes what it sees.
//
// One unreadable map (a socket-storage map cannot be iterated, a sockhash refuses
// lookups of some value sizes) is recorded in that map's `error`, never fails the
// whole read: an operator debugging a broken node needs everything that can be read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace weft::weftctl {

struct MapEntry {
  std::string key;
  // For per-CPU maps, the per-CPU values summed as 64-bit counters (every per-CPU map
  // weft pins holds u64 counters only).
  std::string value;
  bool value_readable = true;  // false when the lookup failed (value empty)
};

struct PinnedMap {
  std::string path;           // the pin
  std::string relative_path;  // below the instance directory, e.g. "maps/orig_dst"
  std::string name;           // the kernel's map name (15 characters at most)
  uint32_t id = 0;
  uint32_t type = 0;  // enum bpf_map_type
  std::string type_name;
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  uint32_t flags = 0;
  bool per_cpu = false;
  bool read_only = false;  // opened with BPF_F_RDONLY
  // Keys present (hash, LPM, sockhash); for arrays, slots whose value is not all zero.
  uint64_t entry_count = 0;
  std::vector<MapEntry> entries;  // the first `limit` of those
  uint64_t entries_left_out = 0;
  std::string error;  // why the map could not be (fully) read; empty when it could
};

struct ReadOptions {
  uint64_t limit = 100;  // entries kept per map; the count covers all of them
  // When not empty, only pins with these names are opened (`bpf stats` needs a few
  // counters, not every connection of a large orig_dst).
  std::vector<std::string> only = {};
};

// The instance directories under <bpffs>/weft, sorted; empty when there is none.
std::vector<std::string> ListInstances(const std::string& bpffs);

// <bpffs>/weft/<instance>
std::string InstanceDir(const std::string& bpffs, const std::string& instance);

// Every map pinned anywhere below `instance_dir` (links and programs are skipped),
// sorted by relative path. NotFound when the directory does not exist or holds no map.
absl::StatusOr<std::vector<PinnedMap>> ReadPinnedMaps(const std::string& instance_dir,
                                                      const ReadOptions& options);

}  // namespace weft::weftctl
