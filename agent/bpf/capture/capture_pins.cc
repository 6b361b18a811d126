#include "agent/bpf/capture/capture_pins.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/status/errno_status.h"

namespace weft::bpf::capture {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Whether the map pinned as `fd` can stand in for `map` as the object defines it.
absl::StatusOr<bool> Compatible(const bpf_map* map, int fd) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
    return ErrnoStatus(errno, "bpf_obj_get_info_by_fd", bpf_map__name(map));
  }
  return info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
         info.value_size == bpf_map__value_size(map) &&
         info.max_entries == bpf_map__max_entries(map) && info.map_flags == bpf_map__map_flags(map);
}

absl::StatusOr<uint32_t> PinnedLayoutVersion(const std::string& path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return ErrnoStatus(errno, "bpf_obj_get", path);
  // The settings value starts with its layout version (bpf/capture.h); read the
  // whole value, whatever its size, and look at the first word only.
  std::vector<uint8_t> value(4096);
  uint32_t key = 0;
  int rc = bpf_map_lookup_elem(fd, &key, value.data());
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoStatus(err, "bpf_map_lookup_elem", path);
  uint32_t version;
  std::memcpy(&version, value.data(), sizeof(version));
  return version;
}

absl::Status RemovePinsIn(const std::string& dir, bool detach_links) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, "opendir", dir);
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  for (const std::string& name : names) {
    std::string path = absl::StrCat(dir, "/", name);
    if (detach_links) {
      int fd = bpf_obj_get(path.c_str());
      // Detach even if someone else still holds an fd: uninstall means gone.
      if (fd >= 0) {
        bpf_link_detach(fd);
        close(fd);
      }
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "unlink", path);
  }
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "rmdir", dir);
  return absl::OkStatus();
}

}  // namespace

std::string MapsDir(const std::string& pin_dir) { return pin_dir + "/maps"; }
std::string LinksDir(const std::string& pin_dir) { return pin_dir + "/links"; }

absl::Status MakeDirs(const std::string& dir) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = dir.find('/', pos + 1);
    std::string prefix = dir.substr(0, pos);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir", prefix);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ReusePinnedMaps(bpf_object* obj, const std::string& maps_dir,
                                     const std::string& settings_map, uint32_t layout_version) {
  std::string settings_path = absl::StrCat(maps_dir, "/", settings_map);
  if (!Exists(settings_path)) return false;

  bool reusable = true;
  absl::StatusOr<uint32_t> version = PinnedLayoutVersion(settings_path);
  if (!version.ok() || *version != layout_version) {
    log::Warn("capture: pinned maps have another layout; recreating",
              {{"dir", maps_dir},
               {"want", layout_version},
               {"have", version.ok() ? absl::StrCat(*version) : version.status().ToString()}});
    reusable = false;
  }
  std::vector<std::pair<bpf_map*, int>> fds;
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    if (!reusable) break;
    if (bpf_map__is_internal(map)) continue;
    std::string path = absl::StrCat(maps_dir, "/", bpf_map__name(map));
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) {
      reusable = false;
      break;
    }
    fds.emplace_back(map, fd);
    absl::StatusOr<bool> ok = Compatible(map, fd);
    if (!ok.ok() || !*ok) {
      log::Warn("capture: pinned map incompatible; recreating", {{"map", path}});
      reusable = false;
    }
  }
  absl::Status status = absl::OkStatus();
  for (auto& [m, fd] : fds) {
    if (reusable && status.ok() && bpf_map__reuse_fd(m, fd) != 0) {
      status = ErrnoStatus(errno, "bpf_map__reuse_fd", bpf_map__name(m));
    }
    close(fd);  // reuse_fd dups it
  }
  if (!status.ok()) return status;
  if (reusable) return true;
  absl::Status removed = RemovePinsIn(maps_dir, /*detach_links=*/false);
  if (!removed.ok()) return removed;
  return false;
}

absl::Status PinMaps(bpf_object* obj, const std::string& maps_dir) {
  if (absl::Status s = MakeDirs(maps_dir); !s.ok()) return s;
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    if (bpf_map__is_internal(map)) continue;
    std::string path = absl::StrCat(maps_dir, "/", bpf_map__name(map));
    if (Exists(path)) continue;  // reused: already pinned there
    if (bpf_map__pin(map, path.c_str()) != 0) return ErrnoStatus(errno, "bpf_map__pin", path);
  }
  return absl::OkStatus();
}

absl::StatusOr<bpf_link*> AttachOrUpdateCgroupLink(bpf_program* prog, int cgroup_fd,
                                                   const std::string& links_dir,
                                                   const std::string& link_name) {
  if (absl::Status s = MakeDirs(links_dir); !s.ok()) return s;
  std::string path = absl::StrCat(links_dir, "/", link_name);
  struct stat cg;
  if (fstat(cgroup_fd, &cg) != 0) return ErrnoStatus(errno, "fstat", "cgroup");

  if (Exists(path)) {
    bpf_link* old = bpf_link__open(path.c_str());
    if (old != nullptr) {
      bpf_link_info info{};
      uint32_t len = sizeof(info);
      // On cgroup2 the cgroup id is the directory's inode number.
      bool same_cgroup = bpf_obj_get_info_by_fd(bpf_link__fd(old), &info, &len) == 0 &&
                         info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.cgroup_id == cg.st_ino;
      if (same_cgroup && bpf_link__update_program(old, prog) == 0) return old;
      log::Warn("capture: pinned link not reusable; attaching anew",
                {{"link", path}, {"same_cgroup", same_cgroup}});
      bpf_link__detach(old);
      bpf_link__destroy(old);
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "unlink", path);
  }
  bpf_link* link = bpf_program__attach_cgroup(prog, cgroup_fd);
  if (link == nullptr)
    return ErrnoStatus(errno, "bpf_program__attach_cgroup", bpf_program__name(prog));
  if (bpf_link__pin(link, path.c_str()) != 0) {
    int err = errno;
    bpf_link__destroy(link);  // not pinned: closing it detaches
    return ErrnoStatus(err, "bpf_link__pin", path);
  }
  return link;
}

absl::Status DetachPinnedLink(const std::string& links_dir, const std::string& link_name) {
  std::string path = absl::StrCat(links_dir, "/", link_name);
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return errno == ENOENT ? absl::OkStatus() : ErrnoStatus(errno, "bpf_obj_get", path);
  bpf_link_detach(fd);
  close(fd);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "unlink", path);
  return absl::OkStatus();
}

absl::Status RemovePinDir(const std::string& pin_dir) {
  if (absl::Status s = RemovePinsIn(LinksDir(pin_dir), /*detach_links=*/true); !s.ok()) return s;
  if (absl::Status s = RemovePinsIn(MapsDir(pin_dir), /*detach_links=*/false); !s.ok()) return s;
  // The pin directory is shared with the other program families: it goes only once
  // nothing else is pinned in it.
  if (rmdir(pin_dir.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY) {
    return ErrnoStatus(errno, "rmdir", pin_dir);
  }
  return absl::OkStatus();
}

}  // namespace weft::bpf::capture
