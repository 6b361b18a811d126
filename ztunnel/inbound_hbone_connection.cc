#include "ztunnel/inbound_hbone_connection.h"

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "ztunnel/inbound_authorization.h"
#include "ztunnel/socket_leg.h"
#include "ztunnel/stream_leg.h"
#include "ztunnel/upstream_connect.h"

namespace weft::ztunnel {

std::unique_ptr<InboundHboneConnection> InboundHboneConnection::Accept(
    Worker& worker, std::shared_ptr<const PodContext> pod, event::ConnectionId id) {
  SharedState& shared = worker.shared();
  std::unique_ptr<InboundHboneConnection> conn(new InboundHboneConnection(worker, pod));
  absl::StatusOr<event::SocketAddress> peer =
      event::SocketAddress::PeerOf(worker.loop().NativeFd(id));
  if (peer.ok()) {
    conn->peer_address_ = peer->ToString();
    conn->peer_ip_ = peer->IpString();
  }
  std::shared_ptr<const MeshView> view = shared.view();
  const WorkloadInfo* self = view ? view->WorkloadByUid(pod->uid) : nullptr;
  IdentityTls tls = self ? shared.TlsFor(self->identity) : IdentityTls{};
  if (tls.server == nullptr) {
    ConnectionRecord record = conn->BaseRecord();
    if (shared.telemetry() != nullptr) {
      shared.telemetry()->Failed(record, "no_certificate",
                                 absl::StrCat("no valid certificate for pod ", pod->uid));
    }
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<tls::TlsSession>> session = tls::TlsSession::Create(tls.server);
  if (!session.ok()) return nullptr;
  conn->tls_ = *std::move(session);
  InboundHboneConnection* raw = conn.get();
  absl::StatusOr<std::unique_ptr<hbone::ServerSession>> h2 = hbone::ServerSession::Create(
      shared.settings().session,
      [raw](int32_t stream_id, const hbone::ConnectRequest& request) {
        return raw->OnConnectRequest(stream_id, request);
      });
  if (!h2.ok()) return nullptr;
  conn->server_ = h2->get();
  conn->h2_ = *std::move(h2);
  conn->TransportReady(id);
  worker.AddInbound(conn.get());
  return conn;
}

ConnectionRecord InboundHboneConnection::BaseRecord() const {
  ConnectionRecord record;
  record.direction = "inbound";
  record.reporter = "destination";
  record.security_policy = "mutual_tls";
  record.source_address = peer_address_;
  if (tls_ != nullptr && tls_->handshake_complete()) {
    record.source_principal = tls_->peer_identity();
    record.source_namespace = NamespaceOfIdentity(record.source_principal);
  }
  std::shared_ptr<const MeshView> view = worker_.shared().view();
  if (const WorkloadInfo* self = view ? view->WorkloadByUid(pod_->uid) : nullptr) {
    record.destination_workload = self->proto->name();
    record.destination_namespace = self->proto->namespace_();
    record.destination_principal = self->identity;
  }
  if (view != nullptr) {
    if (const WorkloadInfo* src = view->WorkloadByAddress(peer_ip_)) {
      record.source_workload = src->proto->name();
    }
  }
  return record;
}

void InboundHboneConnection::OnData(event::EventLoop&, event::ConnectionId,
                                    std::string_view data) {
  absl::Status status = OnTransportBytes(data);
  if (!status.ok() && !failure_counted_) {
    failure_counted_ = true;
    // TLS failures (no certificate, another CA, expired, TLS 1.2, garbage) and broken HTTP/2.
    const bool tls_failure = tls_ != nullptr && !tls_->handshake_complete();
    ConnectionRecord record = BaseRecord();
    if (worker_.shared().telemetry() != nullptr) {
      worker_.shared().telemetry()->Failed(record, tls_failure ? "tls_handshake" : "http2_protocol",
                                           std::string(status.message()));
    }
    return;
  }
  SendResponses();
}

void InboundHboneConnection::OnPeerClosed(event::EventLoop& loop, event::ConnectionId id) {
  (void)loop.Close(id);
}

void InboundHboneConnection::OnClosed(event::EventLoop&, event::ConnectionId,
                                      const absl::Status& reason) {
  worker_.RemoveInbound(this);
  OnTransportClosed(reason.ok() ? absl::UnavailableError("HBONE connection closed") : reason);
}

void InboundHboneConnection::RespondLater(int32_t stream_id, int status) {
  responses_.emplace_back(stream_id, status);
}

void InboundHboneConnection::SendResponses() {
  std::vector<std::pair<int32_t, int>> responses;
  responses.swap(responses_);
  for (const auto& [stream, status] : responses) (void)server_->Respond(stream, status);
  if (!responses.empty()) Flush();
}

hbone::StreamEvents* InboundHboneConnection::OnConnectRequest(
    int32_t stream_id, const hbone::ConnectRequest& request) {
  SharedState& shared = worker_.shared();
  ConnectionRecord record = BaseRecord();
  std::shared_ptr<const MeshView> view = shared.view();
  const WorkloadInfo* self = view ? view->WorkloadByUid(pod_->uid) : nullptr;

  auto relay = std::make_shared<Relay>(shared.telemetry(), record);
  auto leg = std::make_unique<StreamLeg>(relay, Relay::kDownstream, this);
  leg->Opened(this, stream_id, /*await_response=*/false);
  StreamLeg* raw_leg = leg.get();
  legs_.emplace(stream_id, std::move(leg));

  // The tunnel must lead to this pod.
  absl::StatusOr<event::SocketAddress> target = event::SocketAddress::Parse(request.authority);
  bool ours = false;
  if (target.ok()) {
    for (const std::string& a : pod_->addresses) ours = ours || a == target->IpString();
  }
  relay->record().destination_address = request.authority;
  if (!target.ok() || !ours || self == nullptr) {
    relay->Fail("bad_authority", absl::InvalidArgumentError(absl::StrCat(
                                     "CONNECT ", request.authority, " is not an address of pod ",
                                     pod_->uid)));
    RespondLater(stream_id, 400);
    return raw_leg;
  }

  if (absl::Status allowed =
          AuthorizeInbound(*view, *self, tls_->peer_identity(), peer_ip_, *target);
      !allowed.ok()) {
    relay->Fail("policy_denied", allowed);
    RespondLater(stream_id, 403);
    return raw_leg;
  }
  std::weak_ptr<int> alive = alive_token();
  // 200 only once the app accepted the connection; 503 if it refused.
  relay->SetHooks(Relay::Hooks{
      .on_upstream_ready =
          [this, alive, stream_id] {
            if (alive.lock() == nullptr) return;
            (void)server_->Respond(stream_id, 200);
            Flush();
          },
      .on_upstream_failed =
          [this, alive, stream_id, relay_ptr = relay.get()](const absl::Status&) {
            if (alive.lock() == nullptr) return;
            relay_ptr->SetFailureReason("upstream_refused");
            (void)server_->Respond(stream_id, 503);
            Flush();
          },
      .on_finished = nullptr});
  relay->Attach(Relay::kDownstream, raw_leg);
  if (!ConnectUpstream(worker_, *pod_, *target, relay, "upstream_refused").ok()) {
    RespondLater(stream_id, 503);
    return raw_leg;
  }
  worker_.Track(pod_->uid, relay);
  return raw_leg;
}

}  // namespace weft::ztunnel
