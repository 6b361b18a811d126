#include "bench/loadgen/tcp_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "common/event/listen_socket.h"
#include "common/status/errno_status.h"

namespace weft::loadgen {

void SetNoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

ConnectStart StartConnect(const event::SocketAddress& target) {
  ConnectStart start;
  event::ScopedFd fd(socket(target.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    start.error = errno;
    return start;
  }
  SetNoDelay(fd.get());
  if (connect(fd.get(), target.sockaddr_ptr(), target.length()) != 0) {
    if (errno != EINPROGRESS) {
      start.error = errno;
      return start;
    }
    start.pending = true;
  }
  start.fd = std::move(fd);
  return start;
}

int PendingConnectError(int fd) {
  int error = 0;
  socklen_t length = sizeof(error);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

absl::StatusOr<event::ScopedFd> ListenNonBlocking(const event::SocketAddress& address) {
  absl::StatusOr<event::ScopedFd> fd = event::OpenListenSocket(address);
  if (!fd.ok()) return fd.status();
  const int flags = fcntl(fd->get(), F_GETFL);
  if (flags < 0 || fcntl(fd->get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "fcntl(O_NONBLOCK) on listener", address.ToString());
  }
  SetNoDelay(fd->get());
  return fd;
}

const uint8_t* ZeroBytes() {
  static const uint8_t* const zeros = new uint8_t[kZeroBytesSize]();
  return zeros;
}

}  // namespace weft::loadgen
