// The part HBONE client and server connections share: a TCP connection on a worker's loop
// carrying TLS, carrying an HTTP/2 session, carrying one relay leg per CONNECT stream.
// Bytes in: socket -> TLS -> HTTP/2 -> stream legs. Bytes out: legs -> HTTP/2 -> TLS ->
// socket, pushed by Flush().
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/event/event_loop.h"
#include "common/hbone/session.h"
#include "common/tls/tls_session.h"
#include "ztunnel/stream_leg.h"

namespace weft::ztunnel {

class HboneTransport : public HboneSessionHost {
 public:
  ~HboneTransport() override;

  // HboneSessionHost
  hbone::Session& session() override { return *h2_; }
  void Flush() override;
  void ReleaseStream(int32_t stream_id) override;

  size_t open_streams() const { return legs_.size(); }
  bool transport_closed() const { return transport_closed_; }
  bool shutting_down() const { return shutting_down_; }
  const std::string& peer_identity() const { return tls_->peer_identity(); }
  std::chrono::steady_clock::time_point idle_since() const { return idle_since_; }
  // GOAWAY, then close once the last stream is done.
  void Shutdown();

 protected:
  explicit HboneTransport(event::EventLoop* loop) : loop_(loop) {}

  // The socket is connected (outbound) or accepted (inbound): ciphertext may flow.
  void TransportReady(event::ConnectionId id);
  // Ciphertext from the socket. A TLS or HTTP/2 failure aborts the connection (after
  // sending what alert or GOAWAY there is) and is returned for the caller to count.
  absl::Status OnTransportBytes(std::string_view data);
  // The socket's send queue emptied: output held back by Flush may go now.
  void OnTransportDrained();
  // The socket is gone: every leg ends with `reason`.
  void OnTransportClosed(const absl::Status& reason);
  void Abort(const absl::Status& reason);
  // Called once when the TLS handshake completes (peer identity known).
  virtual void OnHandshakeDone() {}
  // Whether the peer opens streams here (server side): its shutdown is then two-step.
  virtual bool accepts_streams() const { return false; }
  // Expires with the transport: for callbacks that may outlive it.
  std::weak_ptr<int> alive_token() const { return alive_; }

  event::EventLoop* loop_;
  event::ConnectionId id_{};
  std::unique_ptr<tls::TlsSession> tls_;
  std::unique_ptr<hbone::Session> h2_;
  std::map<int32_t, std::unique_ptr<StreamLeg>> legs_;

 private:
  void FreeReleased();
  // Calls OnHandshakeDone once, as soon as the TLS handshake is complete.
  void NoteHandshake();

  std::vector<int32_t> released_;
  bool transport_ready_ = false;
  bool awaiting_drain_ = false;  // Flush stopped at the send queue's high water
  bool transport_closed_ = false;
  bool handshake_seen_ = false;
  bool shutting_down_ = false;
  bool close_when_idle_ = false;  // the final GOAWAY is out: close once no stream is left
  // Closed legs are freed from a posted task, never under a call that may still use them
  // (a leg's own method, or the relay that called it); the token outlives no transport.
  bool free_posted_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::chrono::steady_clock::time_point idle_since_ = std::chrono::steady_clock::now();
};

}  // namespace weft::ztunnel
