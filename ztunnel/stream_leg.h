// A relay leg over one HBONE stream (an HTTP/2 CONNECT tunnel) of a session carried by a
// mutual-TLS connection: the session host owns the stream legs and pushes the session's
// output through TLS to its socket.
#pragma once

#include <cstdint>
#include <memory>

#include "common/hbone/session.h"
#include "common/hbone/stream_events.h"
#include "ztunnel/relay.h"

namespace weft::ztunnel {

class HboneSessionHost {
 public:
  virtual ~HboneSessionHost() = default;
  virtual hbone::Session& session() = 0;
  // Moves what the session produced through TLS onto the socket.
  virtual void Flush() = 0;
  // A stream leg closed; the host frees it once the session call on the stack returns.
  virtual void ReleaseStream(int32_t stream_id) = 0;
};

class StreamLeg : public RelayLeg, public hbone::StreamEvents {
 public:
  // Client streams are pending from the moment their connection opened them and attach on
  // a 200; server streams are attached by their host at once.
  StreamLeg(std::shared_ptr<Relay> relay, Relay::Side side, HboneSessionHost* host = nullptr);
  // The connection carrying the stream opened it.
  void Opened(HboneSessionHost* host, int32_t stream_id, bool await_response);
  int32_t stream_id() const { return stream_id_; }
  Relay& relay() { return *relay_; }
  // The carrying connection is gone: ends the leg without touching the session.
  void OnTransportLost(const absl::Status& reason);

  // RelayLeg
  bool Deliver(std::string_view data) override;
  void DeliverEnd() override;
  void Abort(const absl::Status& reason) override;
  void SetReading(bool enabled) override;

  // hbone::StreamEvents
  void OnResponse(int32_t stream_id, int status) override;
  void OnData(int32_t stream_id, std::string_view data) override;
  void OnPeerEnd(int32_t stream_id) override;
  void OnStreamClosed(int32_t stream_id, const absl::Status& status) override;
  void OnSendBufferDrained(int32_t stream_id) override;

 private:
  std::shared_ptr<Relay> relay_;
  const Relay::Side side_;
  HboneSessionHost* host_;
  int32_t stream_id_ = -1;
  bool reading_ = true;
  bool closed_ = false;
  size_t unconsumed_ = 0;  // received while reading was paused: the peer's window stays shut
  bool in_deliver_ = false;
  bool drained_in_deliver_ = false;
};

}  // namespace weft::ztunnel
