// Network namespaces by file descriptor: running code inside one and reading the
// kernel's netns cookie (what bpf_get_netns_cookie() returns, the key every BPF map
// of weft uses for a pod: a netns path or inode can be reused, a cookie cannot).
#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weft::host {

// Runs `fn` on a short-lived thread that has entered the netns `netns_fd` refers to.
// setns() moves only the calling thread, so no other thread of the process ever
// leaves its own netns. Returns the setns error, else OK (fn reports its own).
absl::Status RunInNetns(int netns_fd, const std::function<void()>& fn);

// Cookie of the netns a socket lives in (SO_NETNS_COOKIE, Linux 5.14+).
absl::StatusOr<uint64_t> SocketNetnsCookie(int socket_fd);
// Cookie of the calling thread's netns.
absl::StatusOr<uint64_t> CurrentNetnsCookie();
// Cookie of the netns `netns_fd` refers to.
absl::StatusOr<uint64_t> NetnsCookieOf(int netns_fd);

}  // namespace weft::host
