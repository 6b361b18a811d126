#include "agent/weftctl/pinned_maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace weft::weftctl {
namespace {

namespace fs = std::filesystem;

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// A pin may be a map, a program or a link; bpf_obj_get_info_by_fd would fill a map info
// struct with a link's info without complaint, so the kind comes from the fd's inode name.
bool IsMapFd(int fd) {
  char target[64] = {};
  std::string link = absl::StrCat("/proc/self/fd/", fd);
  ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
  return n > 0 && std::string(target, static_cast<size_t>(n)) == "anon_inode:bpf-map";
}

bool IsPerCpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

bool IsArray(uint32_t type) {
  return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

std::string Errno(const char* what, int err) {
  return absl::StrCat(what, ": ", std::strerror(err));
}

bool AllZero(const std::string& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

// Per-CPU lookups return one value per possible CPU, each padded to 8 bytes.
std::string SumPerCpu(const std::vector<uint8_t>& raw, uint32_t value_size, int cpus) {
  const size_t stride = (value_size + 7) / 8 * 8;
  if (value_size % 8 != 0) {
    // Not a counter layout: summing would be meaningless, CPU 0 is shown instead.
    return std::string(reinterpret_cast<const char*>(raw.data()), value_size);
  }
  std::vector<uint64_t> sum(value_size / 8, 0);
  for (int cpu = 0; cpu < cpus; ++cpu) {
    for (size_t word = 0; word < sum.size(); ++word) {
      uint64_t v;
      std::memcpy(&v, raw.data() + static_cast<size_t>(cpu) * stride + word * 8, 8);
      sum[word] += v;
    }
  }
  return std::string(reinterpret_cast<const char*>(sum.data()), value_size);
}

void ReadEntries(int fd, PinnedMap& map, const ReadOptions& options) {
  const int cpus = map.per_cpu ? libbpf_num_possible_cpus() : 1;
  if (cpus <= 0) {
    map.error = Errno("number of possible CPUs", -cpus);
    return;
  }
  std::vector<uint8_t> key(map.key_size), next(map.key_size);
  std::vector<uint8_t> raw(map.per_cpu ? (map.value_size + 7) / 8 * 8 * cpus : map.value_size);
  // A hash map changed under iteration may restart from its first key; the bound keeps
  // a busy map from holding the command forever.
  const uint64_t max_steps = 2ULL * map.max_entries + 16;
  uint64_t steps = 0;
  const void* previous = nullptr;
  while (true) {
    if (++steps > max_steps) {
      map.error = "map changed faster than it could be read; counts are approximate";
      break;
    }
    if (bpf_map_get_next_key(fd, previous, next.data()) != 0) {
      if (errno != ENOENT) map.error = Errno("iterate keys", errno);
      break;
    }
    key = next;
    previous = key.data();
    const bool array = IsArray(map.type);
    const bool keep = map.entries.size() < options.limit;
    // Arrays always have every slot: only non-zero slots are worth counting, which
    // needs each value; for other maps a key is an entry and values beyond the limit
    // are never fetched.
    if (!array && !keep) {
      ++map.entry_count;
      ++map.entries_left_out;
      continue;
    }
    MapEntry entry;
    entry.key.assign(reinterpret_cast<const char*>(key.data()), key.size());
    if (bpf_map_lookup_elem(fd, key.data(), raw.data()) != 0) {
      if (errno == ENOENT) continue;  // deleted since get_next_key
      if (map.error.empty()) map.error = Errno("look up values", errno);
      entry.value_readable = false;
    } else if (map.per_cpu) {
      entry.value = SumPerCpu(raw, map.value_size, cpus);
    } else {
      entry.value.assign(reinterpret_cast<const char*>(raw.data()), map.value_size);
    }
    if (array && entry.value_readable && AllZero(entry.value)) continue;
    ++map.entry_count;
    if (keep) {
      map.entries.push_back(std::move(entry));
    } else {
      ++map.entries_left_out;
    }
  }
}

bool Iterable(uint32_t type) {
  switch (type) {
    case BPF_MAP_TYPE_SK_STORAGE:
    case BPF_MAP_TYPE_INODE_STORAGE:
    case BPF_MAP_TYPE_TASK_STORAGE:
    case BPF_MAP_TYPE_RINGBUF:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
    case BPF_MAP_TYPE_BLOOM_FILTER:
      return false;
    default:
      return true;
  }
}

// nullopt when the pin is not a map.
std::optional<PinnedMap> ReadOne(const fs::path& pin, const fs::path& root,
                                 const ReadOptions& options) {
  PinnedMap map;
  map.path = pin.string();
  map.relative_path = pin.lexically_relative(root).string();
  LIBBPF_OPTS(bpf_obj_get_opts, ro, .file_flags = BPF_F_RDONLY);
  int raw_fd = bpf_obj_get_opts(map.path.c_str(), &ro);
  map.read_only = raw_fd >= 0;
  // Some map kinds refuse a read-only fd; reading through a read-write one is still
  // only reading.
  if (raw_fd < 0) raw_fd = bpf_obj_get(map.path.c_str());
  if (raw_fd < 0) {
    map.error = Errno("open pin", errno);
    return map;
  }
  Fd fd(raw_fd);
  if (!IsMapFd(fd.get())) return std::nullopt;
  bpf_map_info info = {};
  uint32_t info_len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &info_len) != 0) {
    map.error = Errno("map info", errno);
    return map;
  }
  map.name = info.name;
  map.id = info.id;
  map.type = info.type;
  const char* type_name = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(info.type));
  map.type_name = type_name != nullptr ? type_name : absl::StrCat("type_", info.type);
  map.key_size = info.key_size;
  map.value_size = info.value_size;
  map.max_entries = info.max_entries;
  map.flags = info.map_flags;
  map.per_cpu = IsPerCpu(info.type);
  if (!Iterable(info.type)) {
    map.error = "entries of this map type cannot be listed from user space";
    return map;
  }
  ReadEntries(fd.get(), map, options);
  return map;
}

}  // namespace

std::string InstanceDir(const std::string& bpffs, const std::string& instance) {
  return absl::StrCat(bpffs, "/weft/", instance);
}

std::vector<std::string> ListInstances(const std::string& bpffs) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(bpffs) / "weft", ec)) {
    if (entry.is_directory(ec)) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::vector<PinnedMap>> ReadPinnedMaps(const std::string& instance_dir,
                                                      const ReadOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(instance_dir, ec)) {
    return absl::NotFoundError(absl::StrCat("no pinned maps under ", instance_dir));
  }
  std::vector<fs::path> pins;
  for (auto it = fs::recursive_directory_iterator(instance_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_directory(ec)) pins.push_back(it->path());
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat("list ", instance_dir, ": ", ec.message()));
  }
  std::sort(pins.begin(), pins.end());
  std::vector<PinnedMap> maps;
  for (const fs::path& pin : pins) {
    if (!options.only.empty() && std::find(options.only.begin(), options.only.end(),
                                           pin.filename().string()) == options.only.end()) {
      continue;
    }
    if (auto map = ReadOne(pin, instance_dir, options)) maps.push_back(*std::move(map));
  }
  if (maps.empty()) {
    return absl::NotFoundError(absl::StrCat("no pinned maps under ", instance_dir));
  }
  return maps;
}

}  // namespace weft::weftctl
