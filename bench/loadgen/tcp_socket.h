// Non-blocking TCP sockets as the load generator needs them: TCP_NODELAY always (a 1-byte
// request must not wait for Nagle), connect() started without waiting, and the errno of a
// failed connect returned as data, because for a load generator a refused connect is a
// result to count, not a reason to stop.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "common/event/scoped_fd.h"
#include "common/event/socket_address.h"

namespace weft::loadgen {

struct ConnectStart {
  event::ScopedFd fd;    // invalid when `error` is set
  int error = 0;         // errno of socket()/connect(); 0 when started or done
  bool pending = false;  // EINPROGRESS: wait for EPOLLOUT, then PendingConnectError()
};

ConnectStart StartConnect(const event::SocketAddress& target);
// SO_ERROR of a socket whose connect was pending: 0 once connected.
int PendingConnectError(int fd);

// A non-blocking listening socket with TCP_NODELAY inherited by accepted sockets.
absl::StatusOr<event::ScopedFd> ListenNonBlocking(const event::SocketAddress& address);
void SetNoDelay(int fd);

// One zero-filled buffer shared by every writer in the process: payload content is never
// inspected, so there is no reason to fill or copy it per request.
const uint8_t* ZeroBytes();
inline constexpr size_t kZeroBytesSize = 256 * 1024;

}  // namespace weft::loadgen
