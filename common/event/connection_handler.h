// What a connection's owner implements to receive its events from the EventLoop.
//
// All calls happen on the loop's thread. The loop owns the handler from the moment it is
// handed over (accept callback, Connect, Adopt) until after OnClosed, the last call.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "common/event/slot_handle.h"

namespace weft::event {

class EventLoop;

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;

  // Outbound connections only: the connect completed; reads are armed right after.
  virtual void OnConnected(EventLoop& /*loop*/, ConnectionId /*id*/) {}

  // Received bytes. `data` points into a kernel-provided buffer that goes back to the
  // buffer ring when this returns: copy what must outlive the call.
  virtual void OnData(EventLoop& loop, ConnectionId id, std::string_view data) = 0;

  // The peer shut down its write side (EOF). The default finishes the connection: flush what
  // is queued, then close. Proxies that forward half-closes override this.
  virtual void OnPeerClosed(EventLoop& loop, ConnectionId id);

  // Everything queued with Send() has reached the kernel. Proxies resume reading the other
  // side here (backpressure).
  virtual void OnSendDrained(EventLoop& /*loop*/, ConnectionId /*id*/) {}

  // The connection is gone. `reason` is OK for an orderly close, otherwise it says why:
  // Unavailable for a reset peer or a failed connect, DeadlineExceeded for connect and idle
  // timeouts, Aborted for a local Abort().
  virtual void OnClosed(EventLoop& loop, ConnectionId id, const absl::Status& reason) = 0;
};

}  // namespace weft::event
