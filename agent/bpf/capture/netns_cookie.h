// The netns cookie the kernel hands BPF programs (bpf_get_netns_cookie), computed
// from userspace so the agent can key enrolled_netns by it.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"

namespace weft::bpf::capture {

// Cookie of the network namespace `netns_fd` refers to (an open /proc/<pid>/ns/net
// or /run/netns/<name>). Enters it on a short-lived thread, so the caller's
// namespace is never changed.
absl::StatusOr<uint64_t> NetnsCookieOf(int netns_fd);

// Cookie of the calling thread's network namespace.
absl::StatusOr<uint64_t> CurrentNetnsCookie();

}  // namespace weft::bpf::capture
