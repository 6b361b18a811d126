#include "ztunnel/inbound_plaintext.h"

#include "absl/strings/str_cat.h"
#include "ztunnel/inbound_authorization.h"
#include "ztunnel/socket_leg.h"
#include "ztunnel/upstream_connect.h"

namespace weft::ztunnel {

std::unique_ptr<event::ConnectionHandler> AcceptInboundPlaintext(
    Worker& worker, const std::shared_ptr<const PodContext>& pod, event::ConnectionId id) {
  SharedState& shared = worker.shared();
  event::EventLoop& loop = worker.loop();
  const int fd = loop.NativeFd(id);
  ConnectionRecord record;
  record.direction = "inbound";
  record.reporter = "destination";
  record.security_policy = "none";
  // sk_lookup keeps the packet's destination: the accepted socket's local address is where
  // the client was going.
  absl::StatusOr<event::SocketAddress> target = event::SocketAddress::LocalOf(fd);
  absl::StatusOr<event::SocketAddress> peer = event::SocketAddress::PeerOf(fd);
  if (target.ok()) record.destination_address = target->ToString();
  if (peer.ok()) record.source_address = peer->ToString();
  std::shared_ptr<const MeshView> view = shared.view();
  const WorkloadInfo* self = view ? view->WorkloadByUid(pod->uid) : nullptr;
  auto refuse = [&](const char* reason, const absl::Status& why) {
    if (shared.telemetry() != nullptr) {
      shared.telemetry()->Failed(record, reason, std::string(why.message()));
    }
    return nullptr;
  };
  if (!target.ok() || !peer.ok()) {
    return refuse("bad_socket", target.ok() ? peer.status() : target.status());
  }
  if (self == nullptr) {
    return refuse("unknown_destination",
                  absl::FailedPreconditionError(absl::StrCat("pod ", pod->uid, " is not in config")));
  }
  record.destination_workload = self->proto->name();
  record.destination_namespace = self->proto->namespace_();
  if (const WorkloadInfo* src = view->WorkloadByAddress(peer->IpString())) {
    record.source_workload = src->proto->name();
    record.source_namespace = src->proto->namespace_();
  }
  if (self->inbound_mode == config::InboundMode::kStrict) {
    return refuse("plaintext_in_strict",
                  absl::PermissionDeniedError("plaintext inbound to a STRICT workload"));
  }
  if (absl::Status allowed =
          AuthorizeInbound(*view, *self, std::nullopt, peer->IpString(), *target);
      !allowed.ok()) {
    return refuse("policy_denied", allowed);
  }
  auto relay = std::make_shared<Relay>(shared.telemetry(), record);
  relay->SetFailureReason("upstream_refused");
  auto downstream = std::make_unique<SocketLeg>(relay, Relay::kDownstream, /*connecting=*/false);
  downstream->Bind(&loop, id);
  relay->Attach(Relay::kDownstream, downstream.get());
  if (!ConnectUpstream(worker, *pod, *target, relay, "upstream_refused").ok()) return nullptr;
  worker.Track(pod->uid, relay);
  return downstream;
}

}  // namespace weft::ztunnel
