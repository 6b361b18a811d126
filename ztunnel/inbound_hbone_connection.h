// A connection accepted on a pod's HBONE listener (podIP:15008): TLS with the pod's own
// identity and a verified client certificate; each CONNECT stream is authorized (L4, the
// reference evaluator, with the peer's SPIFFE identity), connected to the app inside the
// pod, answered 200 once that connect succeeded (403 denied, 503 refused upstream), and
// relayed both ways.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/event/connection_handler.h"
#include "common/hbone/server_session.h"
#include "ztunnel/hbone_transport.h"
#include "ztunnel/shared_state.h"
#include "ztunnel/worker.h"

namespace weft::ztunnel {

class InboundHboneConnection : public event::ConnectionHandler, public HboneTransport {
 public:
  // nullptr (connection refused, counted) when ztunnel holds no certificate for the pod.
  static std::unique_ptr<InboundHboneConnection> Accept(Worker& worker,
                                                        std::shared_ptr<const PodContext> pod,
                                                        event::ConnectionId id);

  // event::ConnectionHandler
  void OnData(event::EventLoop& loop, event::ConnectionId id, std::string_view data) override;
  void OnPeerClosed(event::EventLoop& loop, event::ConnectionId id) override;
  void OnSendDrained(event::EventLoop&, event::ConnectionId) override { OnTransportDrained(); }
  void OnClosed(event::EventLoop& loop, event::ConnectionId id, const absl::Status& reason) override;

 private:
  InboundHboneConnection(Worker& worker, std::shared_ptr<const PodContext> pod)
      : HboneTransport(&worker.loop()), worker_(worker), pod_(std::move(pod)) {}
  bool accepts_streams() const override { return true; }
  hbone::StreamEvents* OnConnectRequest(int32_t stream_id, const hbone::ConnectRequest& request);
  void RespondLater(int32_t stream_id, int status);
  void SendResponses();
  ConnectionRecord BaseRecord() const;

  Worker& worker_;
  std::shared_ptr<const PodContext> pod_;
  hbone::ServerSession* server_ = nullptr;  // == h2_
  // The TCP peer (the source pod's address, authenticated by the network), read once at
  // accept: "ip:port" for records, the ip for authorization and workload lookup.
  std::string peer_address_;
  std::string peer_ip_;
  std::vector<std::pair<int32_t, int>> responses_;  // decided inside a session callback
  bool failure_counted_ = false;
};

}  // namespace weft::ztunnel
