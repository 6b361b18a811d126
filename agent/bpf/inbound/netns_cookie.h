// The kernel's network namespace cookie of a netns fd: the key every inbound and
// short-circuit map uses for a pod (a netns path or inode can be reused, a cookie
// cannot).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"

namespace weft::bpf {

// Cookie of the netns `netns_fd` refers to. Enters the netns on a short-lived thread
// (setns only affects the calling thread) to read SO_NETNS_COOKIE from a socket.
absl::StatusOr<uint64_t> NetnsCookie(int netns_fd);

// Cookie of the netns a socket lives in.
absl::StatusOr<uint64_t> SocketNetnsCookie(int socket_fd);

}  // namespace weft::bpf
