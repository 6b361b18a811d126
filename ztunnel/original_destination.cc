#include "ztunnel/original_destination.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/status/errno_status.h"

namespace weft::ztunnel {
namespace {

// netfilter's SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST share this value (bpf/capture.h).
constexpr int kSoOriginalDst = 80;

}  // namespace

absl::StatusOr<event::SocketAddress> OriginalDestination(int accepted_fd) {
  absl::StatusOr<event::SocketAddress> local = event::SocketAddress::LocalOf(accepted_fd);
  if (!local.ok()) return local.status();
  sockaddr_storage original{};
  socklen_t length = sizeof(original);
  const int level = local->family() == AF_INET ? SOL_IP : SOL_IPV6;
  if (::getsockopt(accepted_fd, level, kSoOriginalDst, &original, &length) != 0) {
    return ErrnoStatus(errno, "getsockopt(SO_ORIGINAL_DST)",
                       "is ztunnel in the agent's --getsockopt-cgroup?");
  }
  return event::SocketAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&original), length);
}

}  // namespace weft::ztunnel
