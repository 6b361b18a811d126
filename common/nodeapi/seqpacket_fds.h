// One SOCK_SEQPACKET packet with file descriptors attached as SCM_RIGHTS: the framing of the
// pod-netns channel. A packet boundary is a message boundary, so a bad packet never
// desynchronises the stream that follows it.
#pragma once

#include <cstddef>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/event/scoped_fd.h"

namespace weft::nodeapi {

// Larger than any PodNetnsMessage we send (a uid and a few addresses); a bound keeps a
// confused peer from making us allocate without limit.
inline constexpr size_t kMaxNetnsPacketBytes = 64 * 1024;
// More than the one fd the protocol allows, so "two fds" is reported as such rather than as
// control-data truncation.
inline constexpr size_t kMaxNetnsPacketFds = 4;

struct SeqPacket {
  std::string bytes;
  // Received with MSG_CMSG_CLOEXEC and owned here, so an error path that drops the packet
  // closes them.
  std::vector<event::ScopedFd> fds;
};

// Sends `bytes` as one packet, with `fd` attached when it is >= 0. `flags` is added to
// MSG_NOSIGNAL (MSG_DONTWAIT for the poll-driven side). Errors: ResourceExhausted when a
// non-blocking send would block, Unavailable when the peer is gone (EPIPE/ECONNRESET),
// InvalidArgument for an oversized packet, else the errno.
absl::Status SendSeqPacket(int socket_fd, std::string_view bytes, int fd, int flags);
// Same with any number of fds (up to kMaxNetnsPacketFds) attached.
absl::Status SendSeqPacket(int socket_fd, std::string_view bytes, std::span<const int> fds,
                           int flags);

// Receives one packet. Errors: Unavailable when the peer closed or reset the connection,
// ResourceExhausted when MSG_DONTWAIT was given and nothing is queued, DataLoss for a packet
// truncated by the kernel (data or fds), else the errno.
absl::StatusOr<SeqPacket> ReceiveSeqPacket(int socket_fd, int flags);

}  // namespace weft::nodeapi
