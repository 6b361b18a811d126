// Sockets made inside a pod's network namespace. ztunnel runs in the host netns and opens
// each pod's listeners and its outbound connections from inside that pod's netns, so the
// traffic looks like the pod's own. setns() moves only the calling thread, and it is moved
// straight back.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/event/scoped_fd.h"
#include "common/event/socket_address.h"

namespace weft::ztunnel {

// A non-blocking TCP socket of `family` created in the netns `netns_fd`, carrying `mark`
// (SO_MARK; 0 = none) so the kernel capture lets it pass.
absl::StatusOr<event::ScopedFd> StreamSocketInNetns(int netns_fd, int family, uint32_t mark);

// Sets net.ipv4.tcp_migrate_req=1 in that netns: when a listener of a SO_REUSEPORT group
// closes (a draining ztunnel), connections still in its accept queue move to another
// member (its successor) instead of being reset.
absl::Status EnableListenerMigration(int netns_fd);

// A non-blocking listening socket on `address` in that netns, with SO_REUSEPORT so every
// worker (and a successor ztunnel) can bind the same address.
absl::StatusOr<event::ScopedFd> ListenerInNetns(int netns_fd, const event::SocketAddress& address,
                                                int backlog);

}  // namespace weft::ztunnel
