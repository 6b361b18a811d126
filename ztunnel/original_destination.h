// Where a captured connection was headed before the kernel's connect4/connect6 hook sent it
// to ztunnel's 15001 listener: getsockopt(SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST), answered
// by the agent's cgroup/getsockopt program from what sockops recorded.
#pragma once

#include "absl/status/statusor.h"
#include "common/event/socket_address.h"

namespace weft::ztunnel {

absl::StatusOr<event::SocketAddress> OriginalDestination(int accepted_fd);

}  // namespace weft::ztunnel
