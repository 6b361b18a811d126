#include "agent/node_environment.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace weft::agent {
namespace {

absl::StatusOr<long> FilesystemType(const std::string& path, const std::string& what) {
  struct statfs st;
  if (statfs(path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
  }
  return static_cast<long>(st.f_type);
}

}  // namespace

std::string NodeEnvironment::PinDir(const NodeEnvironmentOptions& options) {
  return (std::filesystem::path(options.bpffs) / "weft" / options.instance).string();
}

absl::Status CheckInstanceName(const std::string& instance) {
  bool ok = !instance.empty() && instance.size() <= 64;
  for (char c : instance) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--instance \"", instance, "\": expected 1-64 characters of a-z, 0-9 and '-'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<NodeEnvironment> NodeEnvironment::Prepare(const NodeEnvironmentOptions& options) {
  if (absl::Status s = CheckInstanceName(options.instance); !s.ok()) return s;

  absl::StatusOr<long> cgroup_fs = FilesystemType(options.cgroup_root, "--cgroup-root");
  if (!cgroup_fs.ok()) return cgroup_fs.status();
  if (*cgroup_fs != CGROUP2_SUPER_MAGIC) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--cgroup-root ", options.cgroup_root, ": expected a directory on a cgroup2 filesystem"));
  }

  std::error_code ec;
  std::filesystem::create_directories(options.bpffs, ec);
  absl::StatusOr<long> bpf_fs = FilesystemType(options.bpffs, "--bpffs");
  if (!bpf_fs.ok()) return bpf_fs.status();
  if (*bpf_fs != BPF_FS_MAGIC) {
    // A host without bpffs mounted: mount one, as systemd would at /sys/fs/bpf.
    if (mount("bpf", options.bpffs.c_str(), "bpf", 0, "mode=0700") != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("--bpffs ", options.bpffs, ": not a BPF filesystem, and mounting one failed: ",
                       std::strerror(errno)));
    }
  }

  NodeEnvironment env;
  env.cgroup_root_ = options.cgroup_root;
  env.pin_dir_ = PinDir(options);
  std::filesystem::create_directories(env.pin_dir_, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("pin directory ", env.pin_dir_, ": ", ec.message()));
  }
  return env;
}

absl::Status NodeEnvironment::Uninstall(const NodeEnvironmentOptions& options) {
  if (absl::Status s = CheckInstanceName(options.instance); !s.ok()) return s;
  std::error_code ec;
  std::filesystem::remove_all(PinDir(options), ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("removing ", PinDir(options), ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace weft::agent
