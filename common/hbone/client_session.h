// The tunnel-opening side of an HBONE connection (ztunnel outbound, waypoint upstream): each
// OpenStream is one HTTP/2 CONNECT stream carrying one TCP connection.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "common/hbone/session.h"

namespace weft::hbone {

class ClientSession : public Session {
 public:
  // Queues the connection preface and our SETTINGS.
  static absl::StatusOr<std::unique_ptr<ClientSession>> Create(const SessionOptions& options);

  // Opens a CONNECT stream (:method CONNECT, :authority; no :scheme/:path, RFC 9113 §8.5) with
  // the optional Forwarded and traceparent headers. ResourceExhausted when the peer's
  // SETTINGS_MAX_CONCURRENT_STREAMS (or ours) is reached or a GOAWAY was received: the pool
  // then opens another connection. Data may be sent before the response arrives.
  absl::StatusOr<int32_t> OpenStream(const ConnectRequest& request, StreamEvents* events);
  bool can_open_stream() const;

 private:
  using Session::Session;

  void OnHeaderBlockStart(int32_t stream_id, bool is_request) override;
  void OnHeaderField(int32_t stream_id, std::string_view name, std::string_view value) override;
  void OnHeaderBlockEnd(int32_t stream_id, bool end_stream) override;
};

}  // namespace weft::hbone
