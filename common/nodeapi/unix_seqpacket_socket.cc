#include "common/nodeapi/unix_seqpacket_socket.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace weft::nodeapi {
namespace {

absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("netns channel: socket path '", path,
                                                   "' must be 1..", sizeof(addr.sun_path) - 1,
                                                   " bytes"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

}  // namespace

absl::StatusOr<event::ScopedFd> ListenUnixSeqPacket(const std::string& path) {
  absl::StatusOr<sockaddr_un> addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("netns channel: ", path, " exists and is not a socket; not replacing it"));
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return absl::ErrnoToStatus(errno, absl::StrCat("netns channel: unlink stale ", path));
    }
  } else if (errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("netns channel: lstat ", path));
  }
  event::ScopedFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, "netns channel: socket(AF_UNIX)");
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("netns channel: bind ", path));
  }
  if (::chmod(path.c_str(), 0600) != 0) {
    int saved = errno;
    ::unlink(path.c_str());
    return absl::ErrnoToStatus(saved, absl::StrCat("netns channel: chmod 0600 ", path));
  }
  if (::listen(fd.get(), 4) != 0) {
    int saved = errno;
    ::unlink(path.c_str());
    return absl::ErrnoToStatus(saved, absl::StrCat("netns channel: listen ", path));
  }
  return fd;
}

absl::StatusOr<event::ScopedFd> ConnectUnixSeqPacket(const std::string& path) {
  absl::StatusOr<sockaddr_un> addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  event::ScopedFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, "netns channel: socket(AF_UNIX)");
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) {
      return absl::UnavailableError(
          absl::StrCat("netns channel: connect ", path, ": ", std::strerror(errno)));
    }
    return absl::ErrnoToStatus(errno, absl::StrCat("netns channel: connect ", path));
  }
  return fd;
}

}  // namespace weft::nodeapi
