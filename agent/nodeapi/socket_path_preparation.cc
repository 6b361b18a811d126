#include "agent/nodeapi/socket_path_preparation.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status/errno_status.h"

namespace weft::agent::nodeapi {
namespace {

// True when something accepts connections on `path` right now: replacing its file would
// silently steal the socket from a running agent of the same instance.
bool SomeoneListens(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return connected;
}

absl::Status EnsureParentDirectory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return absl::OkStatus();
  struct stat st;
  if (stat(parent.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(parent.string(), " is not a directory"));
    }
    return absl::OkStatus();
  }
  if (errno != ENOENT) return ErrnoStatus(errno, "stat", parent.string());
  if (absl::Status s = EnsureParentDirectory(parent.string()); !s.ok()) return s;
  // Only the agent's user may traverse it: the socket is reachable through this directory only.
  if (mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, "mkdir", parent.string());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PrepareSocketPath(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("node API socket path is empty");
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("node API socket path ", path,
                                                   " is longer than ",
                                                   sizeof(sockaddr_un{}.sun_path) - 1, " bytes"));
  }
  if (absl::Status s = EnsureParentDirectory(path); !s.ok()) return s;
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, "lstat", path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a socket; refusing to replace it"));
  }
  if (SomeoneListens(path)) {
    return absl::AlreadyExistsError(
        absl::StrCat(path, " is served by another process (another agent of this instance?)"));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "unlink", path);
  return absl::OkStatus();
}

absl::Status RestrictSocketMode(const std::string& path) {
  if (chmod(path.c_str(), 0600) != 0) return ErrnoStatus(errno, "chmod 0600", path);
  return absl::OkStatus();
}

}  // namespace weft::agent::nodeapi
