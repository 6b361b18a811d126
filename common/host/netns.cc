#include "common/host/netns.h"

#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status/errno_status.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // linux/asm-generic/socket.h, 5.14+; older libc lacks it
#endif

namespace weft::host {
namespace {

}  // namespace

absl::Status RunInNetns(int netns_fd, const std::function<void()>& fn) {
  absl::Status status;
  std::thread worker([&] {
    if (setns(netns_fd, CLONE_NEWNET) != 0) {
      status = ErrnoStatus(errno, absl::StrCat("setns(netns fd ", netns_fd, ")"));
      return;
    }
    fn();
  });
  worker.join();
  return status;
}

absl::StatusOr<uint64_t> SocketNetnsCookie(int socket_fd) {
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (getsockopt(socket_fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) {
    return ErrnoStatus(errno, absl::StrCat("getsockopt(SO_NETNS_COOKIE) on fd ", socket_fd));
  }
  return cookie;
}

absl::StatusOr<uint64_t> CurrentNetnsCookie() {
  // Any socket carries its netns cookie; UDP is the cheapest to create.
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket() for the netns cookie");
  absl::StatusOr<uint64_t> cookie = SocketNetnsCookie(fd);
  close(fd);
  return cookie;
}

absl::StatusOr<uint64_t> NetnsCookieOf(int netns_fd) {
  absl::StatusOr<uint64_t> cookie = absl::InternalError("netns thread did not run");
  absl::Status entered = RunInNetns(netns_fd, [&] { cookie = CurrentNetnsCookie(); });
  if (!entered.ok()) return entered;
  return cookie;
}

}  // namespace weft::host
