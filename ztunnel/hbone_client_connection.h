// One pooled mutual-TLS HBONE connection from a source pod's netns to a destination
// ztunnel's pod IP, port 15008, carrying many CONNECT streams.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/event/event_loop.h"
#include "common/event/scoped_fd.h"
#include "common/event/socket_address.h"
#include "common/hbone/client_session.h"
#include "common/tls/tls_context.h"
#include "ztunnel/hbone_transport.h"

namespace weft::ztunnel {

class HboneClientConnection : public HboneTransport,
                              public std::enable_shared_from_this<HboneClientConnection> {
 public:
  struct Params {
    event::EventLoop* loop = nullptr;
    event::ScopedFd socket;  // made in the source pod's netns, marked
    event::SocketAddress destination;
    std::shared_ptr<const tls::TlsContext> tls;  // the source identity's client context
    std::string expected_identity;               // the destination's SPIFFE ID
    hbone::SessionOptions session;
    std::chrono::milliseconds connect_timeout{5000};
    // Runs once, when the connection is gone; the pool forgets it then.
    std::function<void(HboneClientConnection*, const absl::Status&)> on_closed;
  };

  static absl::StatusOr<std::shared_ptr<HboneClientConnection>> Open(Params params);

  // Opens a CONNECT stream carrying `leg` (pending until the 200). ResourceExhausted when
  // this connection cannot take another stream.
  absl::StatusOr<int32_t> OpenStream(const hbone::ConnectRequest& request,
                                     std::unique_ptr<StreamLeg> leg);
  bool CanOpenStream() const;
  const event::SocketAddress& destination() const { return destination_; }

 private:
  class Socket;
  HboneClientConnection(event::EventLoop* loop, event::SocketAddress destination,
                        std::function<void(HboneClientConnection*, const absl::Status&)> on_closed)
      : HboneTransport(loop), destination_(destination), on_closed_(std::move(on_closed)) {}
  void OnSocketClosed(const absl::Status& reason);

  event::SocketAddress destination_;
  std::function<void(HboneClientConnection*, const absl::Status&)> on_closed_;
  hbone::ClientSession* client_ = nullptr;  // == h2_
};

}  // namespace weft::ztunnel
