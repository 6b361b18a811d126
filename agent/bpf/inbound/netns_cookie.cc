#include "agent/bpf/inbound/netns_cookie.h"

#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/bpf/inbound/bpffs_pins.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // Linux 5.14; older libc headers lack it
#endif

namespace weft::bpf {

absl::StatusOr<uint64_t> SocketNetnsCookie(int socket_fd) {
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (getsockopt(socket_fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) {
    return ErrnoStatus(errno, "getsockopt(SO_NETNS_COOKIE)", absl::StrCat("fd ", socket_fd));
  }
  return cookie;
}

absl::StatusOr<uint64_t> NetnsCookie(int netns_fd) {
  absl::StatusOr<uint64_t> result = absl::InternalError("netns thread did not run");
  std::thread worker([&] {
    if (setns(netns_fd, CLONE_NEWNET) != 0) {
      result = ErrnoStatus(errno, "setns(CLONE_NEWNET)", absl::StrCat("netns fd ", netns_fd));
      return;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      result = ErrnoStatus(errno, "socket", "inside netns");
      return;
    }
    result = SocketNetnsCookie(fd);
    close(fd);
  });
  worker.join();
  return result;
}

}  // namespace weft::bpf
