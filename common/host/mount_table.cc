#include "common/host/mount_table.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/config/document_parser.h"

namespace weft::host {
namespace {

constexpr char kDefaultBpffs[] = "/sys/fs/bpf";

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string UnescapeMountPath(absl::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = field[i + j];
        octal = octal && c >= '0' && c <= '7';
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> FindMountOfType(absl::string_view fstype) {
  absl::StatusOr<std::string> text = weft::config::ReadFileToString("/proc/self/mountinfo");
  if (!text.ok()) return text.status();
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    // "id parent major:minor root mountpoint options [optional...] - fstype source super"
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash + 1 >= fields.size() || fields.size() < 5) continue;
    if (fields[dash + 1] == fstype) return UnescapeMountPath(fields[4]);
  }
  return absl::NotFoundError(absl::StrCat("no ", fstype, " filesystem in /proc/self/mountinfo"));
}

absl::StatusOr<std::string> Cgroup2MountPoint() {
  absl::StatusOr<std::string> mount = FindMountOfType("cgroup2");
  if (!mount.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cgroup v2 is required: ", mount.status().message()));
  }
  return mount;
}

absl::StatusOr<std::string> EnsureBpffsMounted() {
  absl::StatusOr<std::string> mount = FindMountOfType("bpf");
  if (mount.ok() || !absl::IsNotFound(mount.status())) return mount;
  if (::mkdir(kDefaultBpffs, 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(
        absl::StrCat("mkdir ", kDefaultBpffs, " for bpffs: ", std::strerror(errno)));
  }
  if (::mount("bpf", kDefaultBpffs, "bpf", 0, "mode=0700") != 0) {
    return absl::InternalError(
        absl::StrCat("mount -t bpf bpf ", kDefaultBpffs, ": ", std::strerror(errno)));
  }
  return std::string(kDefaultBpffs);
}

}  // namespace weft::host
