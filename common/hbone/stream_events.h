// The per-stream callback interface a tunnel connection implements. Calls arrive from inside
// Session::OnBytes / TakeOutput / Respond; the owner may call back into the session (SendData,
// Consume, CloseWrite, ResetStream, Respond) from a callback, but must not call OnBytes or
// TakeOutput re-entrantly, nor destroy the session.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace weft::hbone {

class StreamEvents {
 public:
  virtual ~StreamEvents() = default;
  // Client streams only: the response headers arrived (200 = tunnel up; anything else =
  // refused; the stream ends after a non-2xx).
  virtual void OnResponse(int32_t stream_id, int status) {
    (void)stream_id;
    (void)status;
  }
  // Tunnelled bytes from the peer. The owner must call Session::Consume(stream_id, n) once it
  // has passed n of them on: that is what reopens the peer's flow-control window.
  virtual void OnData(int32_t stream_id, std::string_view data) = 0;
  // The peer half-closed (END_STREAM): no more OnData; we may still send.
  virtual void OnPeerEnd(int32_t stream_id) = 0;
  // The stream is finished (both directions ended, RST_STREAM, or session teardown). OK for a
  // clean finish; otherwise names why. Last call for this stream.
  virtual void OnStreamClosed(int32_t stream_id, const absl::Status& status) = 0;
  // Bytes buffered by SendData for this stream fell back below stream_send_buffer_limit / 2.
  virtual void OnSendBufferDrained(int32_t stream_id) { (void)stream_id; }
};

}  // namespace weft::hbone
