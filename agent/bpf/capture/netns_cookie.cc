#include "agent/bpf/capture/netns_cookie.h"

#include <errno.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // linux/asm-generic/socket.h, 5.14+
#endif

namespace weft::bpf::capture {
namespace {

absl::Status ErrnoError(int err, const char* what) {
  return absl::Status(absl::ErrnoToStatusCode(err),
                      absl::StrCat("netns cookie: ", what, ": ", std::strerror(err)));
}

}  // namespace

absl::StatusOr<uint64_t> CurrentNetnsCookie() {
  // Any socket carries its netns cookie; UDP is the cheapest to create.
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError(errno, "socket()");
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  int rc = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len);
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoError(err, "getsockopt(SO_NETNS_COOKIE)");
  return cookie;
}

absl::StatusOr<uint64_t> NetnsCookieOf(int netns_fd) {
  // setns() changes only the calling thread's namespace; a thread that exits right
  // after leaves no trace on the agent's other threads.
  absl::StatusOr<uint64_t> result = absl::InternalError("netns cookie: thread did not run");
  std::thread worker([&] {
    if (setns(netns_fd, CLONE_NEWNET) != 0) {
      result = ErrnoError(errno, "setns(CLONE_NEWNET)");
      return;
    }
    result = CurrentNetnsCookie();
  });
  worker.join();
  return result;
}

}  // namespace weft::bpf::capture
