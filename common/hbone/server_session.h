// The tunnel-accepting side of an HBONE connection (ztunnel inbound :15008, waypoint): each
// CONNECT request goes to the RequestHandler, whose owner answers with Respond() once it knows
// (typically after connecting upstream).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "common/hbone/session.h"

namespace weft::hbone {

class ServerSession : public Session {
 public:
  // Called for each valid CONNECT request. Returns the StreamEvents that will receive the
  // stream's data and closure, or nullptr to refuse at once with 503. Data the client sends
  // before Respond(200) is held (bounded by our stream window) and delivered after it.
  using RequestHandler =
      std::function<StreamEvents*(int32_t stream_id, const ConnectRequest& request)>;

  // Queues our SETTINGS; the client preface is expected first in OnBytes.
  static absl::StatusOr<std::unique_ptr<ServerSession>> Create(const SessionOptions& options,
                                                               RequestHandler handler);

  // 200 opens the tunnel (held data and END_STREAM are delivered from inside this call); any
  // other status ends the stream (END_STREAM on the HEADERS) and OnStreamClosed follows.
  absl::Status Respond(int32_t stream_id, int status);

 private:
  ServerSession(const SessionOptions& options, RequestHandler handler)
      : Session(options), handler_(std::move(handler)) {}

  void OnHeaderBlockStart(int32_t stream_id, bool is_request) override;
  void OnHeaderField(int32_t stream_id, std::string_view name, std::string_view value) override;
  void OnHeaderBlockEnd(int32_t stream_id, bool end_stream) override;
  absl::Status SubmitResponse(int32_t stream_id, Stream& stream, int status);

  RequestHandler handler_;
};

}  // namespace weft::hbone
