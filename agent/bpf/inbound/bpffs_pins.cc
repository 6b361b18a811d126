#include "agent/bpf/inbound/bpffs_pins.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/errno_status.h"

namespace weft::bpf {

absl::Status MakeDirs(const std::string& path) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir", prefix);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return names;
    return ErrnoStatus(errno, "opendir", dir);
  }
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(d);
  return names;
}

absl::Status RemovePinTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, "lstat", path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "unlink", path);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> names = ListDir(path);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (absl::Status s = RemovePinTree(path + "/" + name); !s.ok()) return s;
  }
  if (rmdir(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "rmdir", path);
  return absl::OkStatus();
}

absl::Status DetachAndUnpinLink(const std::string& path) {
  if (access(path.c_str(), F_OK) != 0) return absl::OkStatus();
  if (bpf_link* link = bpf_link__open(path.c_str()); link != nullptr) {
    int err = bpf_link__detach(link);
    bpf_link__destroy(link);
    // ENOLINK: its netns or cgroup is already gone, which is as detached as it gets.
    if (err != 0 && err != -ENOLINK) return ErrnoStatus(err, "detach pinned link", path);
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "unlink", path);
  return absl::OkStatus();
}

absl::Status RemoveFamilyPins(const std::string& family_dir) {
  absl::StatusOr<std::vector<std::string>> names = ListDir(family_dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    const std::string path = family_dir + "/" + name;
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      if (absl::Status s = DetachAndUnpinLink(path); !s.ok()) return s;
    }
  }
  return RemovePinTree(family_dir);
}

std::string MapsDir(const std::string& family_dir, uint32_t layout_version) {
  return absl::StrCat(family_dir, "/maps_v", layout_version);
}

absl::Status PinMapsUnder(bpf_object* obj, const std::string& maps_dir) {
  if (absl::Status s = MakeDirs(maps_dir); !s.ok()) return s;
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    // .rodata/.bss of the object are private to one load; only named maps are shared.
    if (bpf_map__is_internal(map)) continue;
    std::string path = absl::StrCat(maps_dir, "/", bpf_map__name(map));
    if (int err = bpf_map__set_pin_path(map, path.c_str()); err != 0) {
      return ErrnoStatus(err, "bpf_map__set_pin_path", path);
    }
  }
  return absl::OkStatus();
}

absl::Status RemoveStaleMapDirs(const std::string& family_dir, uint32_t layout_version) {
  absl::StatusOr<std::vector<std::string>> names = ListDir(family_dir);
  if (!names.ok()) return names.status();
  const std::string current = absl::StrCat("maps_v", layout_version);
  for (const std::string& name : *names) {
    uint32_t version;
    if (name == current || !name.starts_with("maps_v") ||
        !absl::SimpleAtoi(name.substr(6), &version)) {
      continue;
    }
    if (absl::Status s = RemovePinTree(family_dir + "/" + name); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace weft::bpf
