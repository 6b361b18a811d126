#include "common/nodeapi/netns_channel_client.h"

#include <sys/socket.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/nodeapi/unix_seqpacket_socket.h"

namespace weft::nodeapi {

absl::StatusOr<std::unique_ptr<NetnsChannelClient>> NetnsChannelClient::Connect(
    const std::string& socket_path, Handler handler, const ConnectOptions& options) {
  const absl::Time deadline = absl::Now() + options.max_wait;
  absl::Duration backoff = options.initial_backoff;
  while (true) {
    absl::StatusOr<event::ScopedFd> socket = ConnectUnixSeqPacket(socket_path);
    if (socket.ok()) return FromSocket(*std::move(socket), std::move(handler));
    if (!absl::IsUnavailable(socket.status())) return socket.status();
    absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "netns channel client: no agent on ", socket_path, " within ",
          absl::FormatDuration(options.max_wait), "; last error: ", socket.status().message()));
    }
    absl::SleepFor(std::min(backoff, deadline - now));
    backoff = std::min(backoff * 2, options.max_backoff);
  }
}

absl::StatusOr<std::unique_ptr<NetnsChannelClient>> NetnsChannelClient::FromSocket(
    event::ScopedFd socket, Handler handler) {
  if (!socket.valid()) return absl::InvalidArgumentError("netns channel client: invalid socket");
  if (!handler) return absl::InvalidArgumentError("netns channel client: handler is required");
  return std::unique_ptr<NetnsChannelClient>(
      new NetnsChannelClient(std::move(socket), std::move(handler)));
}

void NetnsChannelClient::Shutdown() { ::shutdown(socket_.get(), SHUT_RDWR); }

absl::Status NetnsChannelClient::Serve() {
  while (true) {
    absl::Status s = ServeOne();
    if (superseded_.load()) return s;
    if (s.ok() || absl::IsInvalidArgument(s) || absl::IsDataLoss(s)) continue;
    return s;
  }
}

absl::Status NetnsChannelClient::ServeOne() {
  absl::StatusOr<SeqPacket> packet = ReceiveSeqPacket(socket_.get(), 0);
  if (absl::IsDataLoss(packet.status())) {
    rejected_packets_.fetch_add(1);
    log::Warn("netns channel client: dropped packet", {{"error", packet.status()}});
    return packet.status();
  }
  if (!packet.ok()) return packet.status();
  std::optional<uint64_t> sequence;
  absl::StatusOr<ReceivedNetnsMessage> received = DecodeNetnsMessage(*std::move(packet), &sequence);
  PodNetnsAck ack;
  if (!received.ok()) {
    rejected_packets_.fetch_add(1);
    log::Warn("netns channel client: rejected packet", {{"error", received.status()}});
    if (!sequence.has_value()) return received.status();
    ack.set_sequence(*sequence);
    ack.set_error(std::string(received.status().message()));
    if (absl::Status s = SendNetnsAck(socket_.get(), ack, {}, 0); !s.ok()) return s;
    return received.status();
  }
  if (received->message.kind() == PodNetnsMessage::SUPERSEDED) {
    superseded_.store(true);
    return absl::AbortedError("netns channel: a newer ztunnel took over the pods");
  }
  ack.set_sequence(received->message.sequence());
  Outcome outcome = handler_(received->message, std::move(received->netns_fd));
  ack.set_error(outcome.error);
  std::vector<int> fds;
  if (outcome.error.empty()) {
    for (const auto& [family, fd] : outcome.listeners) {
      ack.add_listener_families(family);
      fds.push_back(fd);
    }
  }
  return SendNetnsAck(socket_.get(), ack, fds, 0);
}

}  // namespace weft::nodeapi
