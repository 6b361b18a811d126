#include "ztunnel/upstream_connect.h"

#include "ztunnel/netns_socket.h"
#include "ztunnel/socket_leg.h"

namespace weft::ztunnel {

absl::Status ConnectUpstream(Worker& worker, const PodContext& pod,
                             const event::SocketAddress& target,
                             const std::shared_ptr<Relay>& relay,
                             const std::string& failure_reason) {
  const DataPlaneSettings& settings = worker.shared().settings();
  absl::StatusOr<event::ScopedFd> socket =
      StreamSocketInNetns(pod.netns->get(), target.family(), settings.mark);
  if (!socket.ok()) {
    relay->Fail(failure_reason, socket.status());
    return socket.status();
  }
  auto upstream = std::make_unique<SocketLeg>(relay, Relay::kUpstream, /*connecting=*/true);
  SocketLeg* raw = upstream.get();
  absl::StatusOr<event::ConnectionId> id = worker.loop().ConnectSocket(
      *std::move(socket), target, settings.connect_timeout, std::move(upstream));
  if (!id.ok()) {
    // The leg registered itself as pending and is gone with the failed call.
    relay->RegisterPending(Relay::kUpstream, nullptr);
    relay->Fail(failure_reason, id.status());
    return id.status();
  }
  raw->Bind(&worker.loop(), *id);
  return absl::OkStatus();
}

}  // namespace weft::ztunnel
