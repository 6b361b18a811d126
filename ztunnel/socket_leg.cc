#include "ztunnel/socket_leg.h"

#include <string>

namespace weft::ztunnel {
namespace {

// Bytes queued toward a socket before the relay pauses the other side.
constexpr size_t kSendHighWater = 512 * 1024;

}  // namespace

SocketLeg::SocketLeg(std::shared_ptr<Relay> relay, Relay::Side side, bool connecting)
    : relay_(std::move(relay)), side_(side) {
  if (connecting) {
    relay_->RegisterPending(side_, this);
  }
}

void SocketLeg::Bind(event::EventLoop* loop, event::ConnectionId id) {
  loop_ = loop;
  id_ = id;
}

void SocketLeg::OnConnected(event::EventLoop& loop, event::ConnectionId id) {
  Bind(&loop, id);
  relay_->Attach(side_, this);
}

void SocketLeg::OnData(event::EventLoop&, event::ConnectionId, std::string_view data) {
  relay_->OnRead(side_, data);
}

void SocketLeg::OnPeerClosed(event::EventLoop&, event::ConnectionId) {
  relay_->OnReadEnd(side_);
}

void SocketLeg::OnSendDrained(event::EventLoop&, event::ConnectionId) { relay_->OnDrained(side_); }

void SocketLeg::OnClosed(event::EventLoop&, event::ConnectionId, const absl::Status& reason) {
  closed_ = true;
  std::shared_ptr<Relay> relay = std::move(relay_);
  relay->OnLegClosed(side_, reason);
}

bool SocketLeg::Deliver(std::string_view data) {
  if (closed_ || loop_ == nullptr) return true;
  if (!loop_->SendCopy(id_, data).ok()) return true;
  return loop_->PendingSendBytes(id_) < kSendHighWater;
}

void SocketLeg::DeliverEnd() {
  if (!closed_ && loop_ != nullptr) (void)loop_->ShutdownWrite(id_);
}

void SocketLeg::Abort(const absl::Status& reason) {
  if (!closed_ && loop_ != nullptr) (void)loop_->Abort(id_, reason);
}

void SocketLeg::SetReading(bool enabled) {
  if (!closed_ && loop_ != nullptr) (void)loop_->SetReadEnabled(id_, enabled);
}

}  // namespace weft::ztunnel
