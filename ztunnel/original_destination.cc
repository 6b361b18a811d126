#include "ztunnel/original_destination.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/status/errno_status.h"

namespace weft::ztunnel {
namespace {

// netfilter's SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST share this value (bpf/capture.h).
constexpr int kSoOriginalDst = 80;


// 127.0.0.0/8 or ::1: the outbound listener listens on every IPv4 address of the pod
// (capture sends each IPv4 connect to its own 127.1.x.y), but only the pod itself may use it.
bool IsLoopback(const event::SocketAddress& address) {
  if (address.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address.sockaddr_ptr());
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address.sockaddr_ptr());
  return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

}  // namespace

absl::StatusOr<event::SocketAddress> OriginalDestination(int accepted_fd) {
  absl::StatusOr<event::SocketAddress> local = event::SocketAddress::LocalOf(accepted_fd);
  if (!local.ok()) return local.status();
  if (!IsLoopback(*local)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "outbound listener reached at ", local->ToString(), ": only the pod itself may use it"));
  }
  sockaddr_storage original{};
  socklen_t length = sizeof(original);
  const int level = local->family() == AF_INET ? SOL_IP : SOL_IPV6;
  if (::getsockopt(accepted_fd, level, kSoOriginalDst, &original, &length) != 0) {
    return ErrnoStatus(errno, "getsockopt(SO_ORIGINAL_DST)",
                       "is ztunnel in the agent's --getsockopt-cgroup?");
  }
  absl::StatusOr<event::SocketAddress> destination =
      event::SocketAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&original), length);
  // Without our answer, conntrack's (when loaded) names the socket's own address.
  if (destination.ok() && destination->ToString() == local->ToString()) {
    return absl::NotFoundError(absl::StrCat("no original destination recorded for ",
                                            local->ToString(), " (not a captured connection)"));
  }
  return destination;
}

}  // namespace weft::ztunnel
