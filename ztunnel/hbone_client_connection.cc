#include "ztunnel/hbone_client_connection.h"

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"

namespace weft::ztunnel {

// The loop's handler for the connection's socket; forwards to the shared connection.
class HboneClientConnection::Socket : public event::ConnectionHandler {
 public:
  explicit Socket(std::shared_ptr<HboneClientConnection> conn) : conn_(std::move(conn)) {}
  void OnConnected(event::EventLoop&, event::ConnectionId id) override {
    if (absl::Status s = conn_->tls_->StartHandshake(); !s.ok()) {
      conn_->id_ = id;
      conn_->Abort(s);
      return;
    }
    conn_->TransportReady(id);
  }
  void OnData(event::EventLoop&, event::ConnectionId, std::string_view data) override {
    (void)conn_->OnTransportBytes(data);
  }
  void OnPeerClosed(event::EventLoop& loop, event::ConnectionId id) override {
    (void)loop.Close(id);
  }
  void OnSendDrained(event::EventLoop&, event::ConnectionId) override {
    conn_->OnTransportDrained();
  }
  void OnClosed(event::EventLoop&, event::ConnectionId, const absl::Status& reason) override {
    std::shared_ptr<HboneClientConnection> conn = std::move(conn_);
    conn->OnSocketClosed(reason);
  }

 private:
  std::shared_ptr<HboneClientConnection> conn_;
};

absl::StatusOr<std::shared_ptr<HboneClientConnection>> HboneClientConnection::Open(Params params) {
  std::shared_ptr<HboneClientConnection> conn(new HboneClientConnection(
      params.loop, params.destination, std::move(params.on_closed)));
  absl::StatusOr<std::unique_ptr<tls::TlsSession>> tls = tls::TlsSession::Create(params.tls);
  if (!tls.ok()) return tls.status();
  conn->tls_ = *std::move(tls);
  conn->tls_->SetExpectedPeerIdentity(params.expected_identity);
  absl::StatusOr<std::unique_ptr<hbone::ClientSession>> h2 =
      hbone::ClientSession::Create(params.session);
  if (!h2.ok()) return h2.status();
  conn->client_ = h2->get();
  conn->h2_ = *std::move(h2);
  absl::StatusOr<event::ConnectionId> id = params.loop->ConnectSocket(
      std::move(params.socket), params.destination, params.connect_timeout,
      std::make_unique<Socket>(conn));
  if (!id.ok()) return id.status();
  conn->id_ = *id;
  return conn;
}

absl::StatusOr<int32_t> HboneClientConnection::OpenStream(const hbone::ConnectRequest& request,
                                                          std::unique_ptr<StreamLeg> leg) {
  if (!CanOpenStream()) {
    return absl::ResourceExhaustedError("HBONE connection cannot take another stream");
  }
  absl::StatusOr<int32_t> stream = client_->OpenStream(request, leg.get());
  if (!stream.ok()) return stream.status();
  leg->Opened(this, *stream, /*await_response=*/true);
  legs_.emplace(*stream, std::move(leg));
  Flush();
  return *stream;
}

bool HboneClientConnection::CanOpenStream() const {
  return !transport_closed() && !shutting_down() && client_->can_open_stream();
}

void HboneClientConnection::OnSocketClosed(const absl::Status& reason) {
  OnTransportClosed(reason.ok() ? absl::UnavailableError("HBONE connection closed") : reason);
  if (on_closed_) {
    auto callback = std::move(on_closed_);
    callback(this, reason);
  }
}

}  // namespace weft::ztunnel
