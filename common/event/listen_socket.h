// Opens TCP listening sockets for the event loop: bound, listening, close-on-exec.
#pragma once

#include "absl/status/statusor.h"
#include "common/event/scoped_fd.h"
#include "common/event/socket_address.h"

namespace weft::event {

struct ListenOptions {
  int backlog = 4096;
  // SO_REUSEPORT lets every worker thread own a listener on the same port (the kernel
  // spreads connections) and lets a new process bind while the old one drains.
  bool reuse_port = false;
};

absl::StatusOr<ScopedFd> OpenListenSocket(const SocketAddress& address,
                                          const ListenOptions& options = {});

}  // namespace weft::event
