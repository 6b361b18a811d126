// PodNetnsMessage / PodNetnsAck on the pod-netns channel: one serialized protobuf per packet,
// the pod's netns fd attached to ADD. Validation happens here, at the edge, so the client and
// server only ever see well-formed messages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/event/scoped_fd.h"
#include "common/nodeapi/seqpacket_fds.h"
#include "weft/nodeapi/v1/node_api.pb.h"

namespace weft::nodeapi {

using PodNetnsMessage = ::weft::nodeapi::v1::PodNetnsMessage;
using PodNetnsAck = ::weft::nodeapi::v1::PodNetnsAck;

struct ReceivedNetnsMessage {
  PodNetnsMessage message;
  // Valid exactly when message.kind() == ADD.
  event::ScopedFd netns_fd;
};

// OK when `fd` refers to a network namespace (NS_GET_NSTYPE), so a wrong fd is caught by the
// side that has it rather than by setns() much later.
absl::Status CheckIsNetnsFd(int fd);

// Checks the message against the fd rules (ADD: exactly one netns fd; others: none) before
// sending. `flags` as for SendSeqPacket.
absl::Status SendNetnsMessage(int socket_fd, const PodNetnsMessage& message, int netns_fd,
                              int flags);

// Turns a received packet into a message. On InvalidArgument, `parsed_sequence` (if given)
// holds the sequence when the bytes did parse, so the receiver can answer with an error ack;
// an unparsable packet leaves it empty.
absl::StatusOr<ReceivedNetnsMessage> DecodeNetnsMessage(SeqPacket packet,
                                                        std::optional<uint64_t>* parsed_sequence);

// ReceiveSeqPacket + DecodeNetnsMessage.
absl::StatusOr<ReceivedNetnsMessage> ReceiveNetnsMessage(
    int socket_fd, int flags, std::optional<uint64_t>* parsed_sequence = nullptr);

// A plaintext inbound (15006) listening socket ztunnel hands back with a successful ADD ack.
// Shared so that an ack event stays copyable; the last holder closes it.
struct InboundListenerFd {
  int family = 0;  // AF_INET or AF_INET6
  std::shared_ptr<event::ScopedFd> fd;
};

struct ReceivedNetnsAck {
  PodNetnsAck ack;
  std::vector<InboundListenerFd> listeners;  // in listener_families order
};

// `listener_fds` pair up with ack.listener_families(); only a successful ack may carry any.
absl::Status SendNetnsAck(int socket_fd, const PodNetnsAck& ack, std::span<const int> listener_fds,
                          int flags);
// Checks that the attached fds match listener_families and are listening TCP sockets of that
// family; anything else is refused (the fds are closed) with InvalidArgument.
absl::StatusOr<ReceivedNetnsAck> DecodeNetnsAck(SeqPacket packet);

}  // namespace weft::nodeapi
