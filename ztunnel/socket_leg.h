// A relay leg over a plain TCP socket on a worker's event loop: an accepted app
// connection, or an upstream connection ztunnel opened (to the app in the destination pod,
// or to a destination outside the mesh).
#pragma once

#include <memory>

#include "common/event/connection_handler.h"
#include "common/event/event_loop.h"
#include "ztunnel/relay.h"

namespace weft::ztunnel {

class SocketLeg : public event::ConnectionHandler, public RelayLeg {
 public:
  // Accepted connections: attached at once. Connecting ones (`connecting`): registered as
  // pending and attached when the connect completes.
  SocketLeg(std::shared_ptr<Relay> relay, Relay::Side side, bool connecting);
  // Known once the loop has the connection (accept callback, or after Connect returns).
  void Bind(event::EventLoop* loop, event::ConnectionId id);

  // event::ConnectionHandler
  void OnConnected(event::EventLoop& loop, event::ConnectionId id) override;
  void OnData(event::EventLoop& loop, event::ConnectionId id, std::string_view data) override;
  void OnPeerClosed(event::EventLoop& loop, event::ConnectionId id) override;
  void OnSendDrained(event::EventLoop& loop, event::ConnectionId id) override;
  void OnClosed(event::EventLoop& loop, event::ConnectionId id, const absl::Status& reason) override;

  // RelayLeg
  bool Deliver(std::string_view data) override;
  void DeliverEnd() override;
  void Abort(const absl::Status& reason) override;
  void SetReading(bool enabled) override;

 private:
  std::shared_ptr<Relay> relay_;
  const Relay::Side side_;
  event::EventLoop* loop_ = nullptr;
  event::ConnectionId id_{};
  bool closed_ = false;
};

}  // namespace weft::ztunnel
