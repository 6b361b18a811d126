#include "common/event/listen_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace weft::event {

absl::StatusOr<ScopedFd> OpenListenSocket(const SocketAddress& address,
                                          const ListenOptions& options) {
  const std::string where = address.ToString();
  ScopedFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::ErrnoToStatus(errno, absl::StrCat("socket() for listener ", where));
  }
  int one = 1;
  // SO_REUSEADDR: a restarted binary must not wait out TIME_WAIT of its predecessor.
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setsockopt(SO_REUSEADDR) on ", where));
  }
  if (options.reuse_port &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setsockopt(SO_REUSEPORT) on ", where));
  }
  if (::bind(fd.get(), address.sockaddr_ptr(), address.length()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("bind(", where, ")"));
  }
  if (::listen(fd.get(), options.backlog) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("listen(", where, ")"));
  }
  return fd;
}

}  // namespace weft::event
