#include "common/nodeapi/seqpacket_fds.h"

#include <errno.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace weft::nodeapi {
namespace {

// Control buffer sized for kMaxNetnsPacketFds and aligned for cmsghdr.
union ControlBuffer {
  char buf[CMSG_SPACE(sizeof(int) * kMaxNetnsPacketFds)];
  cmsghdr align;
};

}  // namespace

absl::Status SendSeqPacket(int socket_fd, std::string_view bytes, int fd, int flags) {
  if (fd < 0) return SendSeqPacket(socket_fd, bytes, std::span<const int>(), flags);
  return SendSeqPacket(socket_fd, bytes, std::span<const int>(&fd, 1), flags);
}

absl::Status SendSeqPacket(int socket_fd, std::string_view bytes, std::span<const int> fds,
                           int flags) {
  if (fds.size() > kMaxNetnsPacketFds) {
    return absl::InvalidArgumentError(absl::StrCat("netns channel: ", fds.size(),
                                                   " fds exceed the limit of ", kMaxNetnsPacketFds));
  }
  if (bytes.size() > kMaxNetnsPacketBytes) {
    return absl::InvalidArgumentError(absl::StrCat("netns channel: packet of ", bytes.size(),
                                                   " bytes exceeds the ", kMaxNetnsPacketBytes,
                                                   "-byte limit"));
  }
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ControlBuffer control;
  if (!fds.empty()) {
    std::memset(&control, 0, sizeof(control));
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  while (true) {
    ssize_t n = ::sendmsg(socket_fd, &msg, flags | MSG_NOSIGNAL);
    if (n >= 0) return absl::OkStatus();
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return absl::ResourceExhaustedError("netns channel: sendmsg would block");
    }
    // Same meaning as EOF on receive: the owner reconnects.
    if (errno == EPIPE || errno == ECONNRESET) {
      return absl::UnavailableError("netns channel: peer closed the connection (sendmsg)");
    }
    return absl::ErrnoToStatus(errno, "netns channel: sendmsg");
  }
}

absl::StatusOr<SeqPacket> ReceiveSeqPacket(int socket_fd, int flags) {
  SeqPacket packet;
  packet.bytes.resize(kMaxNetnsPacketBytes);
  iovec iov{packet.bytes.data(), packet.bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ControlBuffer control;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof(control.buf);
  ssize_t n;
  do {
    n = ::recvmsg(socket_fd, &msg, flags | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return absl::ResourceExhaustedError("netns channel: no packet queued");
    }
    if (errno == ECONNRESET) {
      return absl::UnavailableError("netns channel: peer reset the connection");
    }
    return absl::ErrnoToStatus(errno, "netns channel: recvmsg");
  }
  // Take ownership of every fd before any check, so every return below closes them.
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
      packet.fds.emplace_back(fd);
    }
  }
  // A zero-length read on SEQPACKET is the peer's orderly shutdown (we never send empty
  // packets: a serialized message always carries at least its kind).
  if (n == 0 && packet.fds.empty()) {
    return absl::UnavailableError("netns channel: peer closed the connection");
  }
  if (msg.msg_flags & MSG_TRUNC) {
    return absl::DataLossError(absl::StrCat("netns channel: packet larger than ",
                                            kMaxNetnsPacketBytes, " bytes was truncated"));
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    return absl::DataLossError(absl::StrCat("netns channel: control data truncated (more than ",
                                            kMaxNetnsPacketFds, " fds attached)"));
  }
  packet.bytes.resize(static_cast<size_t>(n));
  return packet;
}

}  // namespace weft::nodeapi
