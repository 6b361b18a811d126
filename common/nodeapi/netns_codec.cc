#include "common/nodeapi/netns_codec.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace weft::nodeapi {
namespace {

absl::Status CheckFdCount(PodNetnsMessage::Kind kind, size_t fd_count) {
  if (kind == PodNetnsMessage::ADD && fd_count != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "netns channel: ADD must carry exactly one netns fd (SCM_RIGHTS), got ", fd_count));
  }
  if (kind != PodNetnsMessage::ADD && fd_count != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("netns channel: ", PodNetnsMessage::Kind_Name(kind),
                     " must not carry fds, got ", fd_count));
  }
  return absl::OkStatus();
}

absl::Status CheckFields(const PodNetnsMessage& message) {
  switch (message.kind()) {
    case PodNetnsMessage::ADD:
    case PodNetnsMessage::REMOVE:
      if (message.workload_uid().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("netns channel: ", PodNetnsMessage::Kind_Name(message.kind()),
                         " (sequence ", message.sequence(), ") has an empty workload_uid"));
      }
      return absl::OkStatus();
    case PodNetnsMessage::SNAPSHOT_DONE:
    case PodNetnsMessage::SUPERSEDED:
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "netns channel: message (sequence ", message.sequence(), ") has kind ",
          static_cast<int>(message.kind()), ", expected ADD, REMOVE, SNAPSHOT_DONE or SUPERSEDED"));
  }
}

}  // namespace

absl::Status CheckIsNetnsFd(int fd) {
  int type = ::ioctl(fd, NS_GET_NSTYPE);
  if (type < 0)
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("netns channel: fd ", fd, " is not a namespace fd"));
  if (type != CLONE_NEWNET) {
    return absl::InvalidArgumentError(
        absl::StrCat("netns channel: fd ", fd, " is a namespace fd but not a network namespace"));
  }
  return absl::OkStatus();
}

absl::Status SendNetnsMessage(int socket_fd, const PodNetnsMessage& message, int netns_fd,
                              int flags) {
  if (absl::Status s = CheckFields(message); !s.ok()) return s;
  if (absl::Status s = CheckFdCount(message.kind(), netns_fd >= 0 ? 1 : 0); !s.ok()) return s;
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    return absl::InternalError("netns channel: PodNetnsMessage failed to serialize");
  }
  return SendSeqPacket(socket_fd, bytes, netns_fd, flags);
}

absl::StatusOr<ReceivedNetnsMessage> DecodeNetnsMessage(SeqPacket packet,
                                                        std::optional<uint64_t>* parsed_sequence) {
  if (parsed_sequence != nullptr) parsed_sequence->reset();
  ReceivedNetnsMessage received;
  if (!received.message.ParseFromString(packet.bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("netns channel: packet of ", packet.bytes.size(),
                                                   " bytes is not a PodNetnsMessage"));
  }
  if (parsed_sequence != nullptr) *parsed_sequence = received.message.sequence();
  if (absl::Status s = CheckFields(received.message); !s.ok()) return s;
  if (absl::Status s = CheckFdCount(received.message.kind(), packet.fds.size()); !s.ok()) {
    return s;
  }
  if (received.message.kind() == PodNetnsMessage::ADD) {
    if (absl::Status s = CheckIsNetnsFd(packet.fds[0].get()); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "netns channel: ADD of ", received.message.workload_uid(), ": ", s.message()));
    }
    received.netns_fd = std::move(packet.fds[0]);
  }
  return received;
}

absl::StatusOr<ReceivedNetnsMessage> ReceiveNetnsMessage(int socket_fd, int flags,
                                                         std::optional<uint64_t>* parsed_sequence) {
  if (parsed_sequence != nullptr) parsed_sequence->reset();
  absl::StatusOr<SeqPacket> packet = ReceiveSeqPacket(socket_fd, flags);
  if (!packet.ok()) return packet.status();
  return DecodeNetnsMessage(*std::move(packet), parsed_sequence);
}

absl::Status SendNetnsAck(int socket_fd, const PodNetnsAck& ack, std::span<const int> listener_fds,
                          int flags) {
  if (listener_fds.size() != static_cast<size_t>(ack.listener_families_size()) ||
      (!ack.error().empty() && !listener_fds.empty())) {
    return absl::InvalidArgumentError(
        absl::StrCat("netns channel: ack (sequence ", ack.sequence(), ") names ",
                     ack.listener_families_size(), " listener families for ",
                     listener_fds.size(), " fds"));
  }
  std::string bytes;
  if (!ack.SerializeToString(&bytes)) {
    return absl::InternalError("netns channel: PodNetnsAck failed to serialize");
  }
  return SendSeqPacket(socket_fd, bytes, listener_fds, flags);
}

namespace {

// A listening TCP socket of `family`, or why not.
absl::Status CheckListenerFd(int fd, int family) {
  int domain = 0, protocol = 0, listening = 0;
  socklen_t len = sizeof(int);
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) {
    return absl::InvalidArgumentError("attached fd is not a socket");
  }
  len = sizeof(int);
  ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len);
  len = sizeof(int);
  ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
  if (domain != family || protocol != IPPROTO_TCP || listening != 1) {
    return absl::InvalidArgumentError(absl::StrCat("attached fd is not a listening TCP socket of family ",
                                                   family));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ReceivedNetnsAck> DecodeNetnsAck(SeqPacket packet) {
  ReceivedNetnsAck received;
  PodNetnsAck& ack = received.ack;
  if (!ack.ParseFromString(packet.bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("netns channel: packet of ", packet.bytes.size(),
                                                   " bytes is not a PodNetnsAck"));
  }
  if (packet.fds.size() != static_cast<size_t>(ack.listener_families_size()) ||
      (!ack.error().empty() && !packet.fds.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "netns channel: ack (sequence ", ack.sequence(), ") carries ", packet.fds.size(),
        " fds for ", ack.listener_families_size(), " listener families"));
  }
  for (size_t i = 0; i < packet.fds.size(); ++i) {
    const int family = ack.listener_families(static_cast<int>(i));
    if (family != AF_INET && family != AF_INET6) {
      return absl::InvalidArgumentError(absl::StrCat("netns channel: ack (sequence ",
                                                     ack.sequence(), ") names family ", family));
    }
    if (absl::Status s = CheckListenerFd(packet.fds[i].get(), family); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("netns channel: ack (sequence ",
                                                     ack.sequence(), "): ", s.message()));
    }
    received.listeners.push_back(
        {family, std::make_shared<event::ScopedFd>(std::move(packet.fds[i]))});
  }
  return received;
}

}  // namespace weft::nodeapi
