// GrpcChannel's nghttp2 callbacks: how HTTP/2 events for a stream become a call's messages and
// final status. Each looks its call up through the stream user data, which a detached call has
// cleared, so events for a forgotten call are dropped.
#include <cstdlib>
#include <string_view>

#include "absl/strings/numbers.h"
#include "common/grpcwire/grpc_channel.h"

namespace weft::grpcwire {
namespace {

CallState* CallOf(nghttp2_session* session, int32_t stream_id) {
  return static_cast<CallState*>(nghttp2_session_get_stream_user_data(session, stream_id));
}

std::string_view View(const uint8_t* data, size_t len) {
  return std::string_view(reinterpret_cast<const char*>(data), len);
}

}  // namespace

int GrpcChannel::OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                          size_t name_len, const uint8_t* value, size_t value_len,
                          uint8_t /*flags*/, void* /*user_data*/) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  CallState* call = CallOf(session, frame->hd.stream_id);
  if (call == nullptr || call->finished) return 0;
  const std::string_view key = View(name, name_len);
  const std::string_view val = View(value, value_len);
  ResponseOutcome& outcome = call->outcome;
  if (key == ":status") {
    int status = 0;
    outcome.http_status = absl::SimpleAtoi(std::string(val), &status) ? status : -1;
  } else if (key == "content-type") {
    outcome.content_type = std::string(val);
  } else if (key == "grpc-status") {
    int code = 0;
    // An unparsable code is Unknown, as gRPC treats it.
    outcome.grpc_status = absl::SimpleAtoi(std::string(val), &code) ? code : 2;
  } else if (key == "grpc-message") {
    outcome.grpc_message = std::string(val);
  }
  return 0;
}

int GrpcChannel::OnFrameReceived(nghttp2_session* session, const nghttp2_frame* frame,
                                 void* user_data) {
  auto* channel = static_cast<GrpcChannel*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  CallState* call = CallOf(session, frame->hd.stream_id);
  if (call == nullptr || call->finished) return 0;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_RESPONSE &&
      call->outcome.http_status != 200) {
    // Not a gRPC answer at all (a proxy's 503, a 404): the call ends here.
    channel->FinishCall(call, StatusFromResponse(call->outcome), NGHTTP2_CANCEL);
    return 0;
  }
  if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) channel->OnRemoteEnd(call);
  return 0;
}

int GrpcChannel::OnDataChunk(nghttp2_session* session, uint8_t /*flags*/, int32_t stream_id,
                             const uint8_t* data, size_t len, void* user_data) {
  auto* channel = static_cast<GrpcChannel*>(user_data);
  CallState* call = CallOf(session, stream_id);
  if (call == nullptr || call->finished) return 0;
  call->deframer.Append(View(data, len));
  while (true) {
    absl::StatusOr<std::optional<std::string>> message = call->deframer.Next();
    if (!message.ok()) {
      channel->FinishCall(call, message.status(), NGHTTP2_CANCEL);
      return 0;
    }
    if (!message->has_value()) return 0;
    call->messages.push_back(std::move(**message));
  }
}

int GrpcChannel::OnStreamClosed(nghttp2_session* session, int32_t stream_id, uint32_t error_code,
                                void* user_data) {
  auto* channel = static_cast<GrpcChannel*>(user_data);
  CallState* call = CallOf(session, stream_id);
  if (call == nullptr) return 0;
  if (!call->finished) {
    if (error_code == NGHTTP2_NO_ERROR) {
      channel->OnRemoteEnd(call);
    } else {
      channel->FinishCall(call, StatusFromReset(error_code), std::nullopt);
    }
  }
  nghttp2_session_set_stream_user_data(session, stream_id, nullptr);
  call->stream_id = -1;
  return 0;
}

ssize_t GrpcChannel::ReadRequestBody(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                                     size_t length, uint32_t* data_flags,
                                     nghttp2_data_source* /*source*/, void* /*user_data*/) {
  CallState* call = CallOf(session, stream_id);
  if (call == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
  const size_t available = call->send_buffer.size() - call->send_offset;
  if (available == 0) {
    if (call->half_closed || call->finished) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      return 0;
    }
    return NGHTTP2_ERR_DEFERRED;  // BidiCall::Write resumes it
  }
  const size_t n = std::min(available, length);
  std::memcpy(buf, call->send_buffer.data() + call->send_offset, n);
  call->send_offset += n;
  if (call->SendBufferEmpty()) {
    call->send_buffer.clear();
    call->send_offset = 0;
    if (call->half_closed) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  }
  return static_cast<ssize_t>(n);
}

void GrpcChannel::OnRemoteEnd(CallState* call) {
  call->outcome.truncated_message = call->deframer.HasPartialMessage();
  // Our half of the stream may still be open (a bidi call the server ended): close it too.
  const bool local_open = call->stream_id > 0 &&
                          nghttp2_session_find_stream(session_, call->stream_id) != nullptr &&
                          nghttp2_session_get_stream_local_close(session_, call->stream_id) == 0;
  FinishCall(call, StatusFromResponse(call->outcome),
             local_open ? std::optional<uint32_t>(NGHTTP2_NO_ERROR) : std::nullopt);
}

}  // namespace weft::grpcwire
