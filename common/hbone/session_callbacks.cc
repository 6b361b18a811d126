#include "common/hbone/session_callbacks.h"

#include <string_view>

#include "common/hbone/session.h"

namespace weft::hbone {
namespace {

Session* AsSession(void* user_data) { return static_cast<Session*>(user_data); }

std::string_view View(const uint8_t* data, size_t len) {
  return {reinterpret_cast<const char*>(data), len};
}

}  // namespace

void SessionCallbacks::Install(nghttp2_session_callbacks* callbacks) {
  nghttp2_session_callbacks_set_on_begin_headers_callback(
      callbacks, [](nghttp2_session*, const nghttp2_frame* frame, void* user_data) -> int {
        if (frame->hd.type == NGHTTP2_HEADERS) {
          AsSession(user_data)->OnHeaderBlockStart(frame->hd.stream_id,
                                                   frame->headers.cat == NGHTTP2_HCAT_REQUEST);
        }
        return 0;
      });
  nghttp2_session_callbacks_set_on_header_callback(
      callbacks,
      [](nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
         const uint8_t* value, size_t valuelen, uint8_t, void* user_data) -> int {
        if (frame->hd.type == NGHTTP2_HEADERS) {
          AsSession(user_data)->OnHeaderField(frame->hd.stream_id, View(name, namelen),
                                              View(value, valuelen));
        }
        return 0;
      });
  nghttp2_session_callbacks_set_on_frame_recv_callback(
      callbacks, [](nghttp2_session*, const nghttp2_frame* frame, void* user_data) -> int {
        Session* self = AsSession(user_data);
        const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
        switch (frame->hd.type) {
          case NGHTTP2_HEADERS:
            self->OnHeaderBlockEnd(frame->hd.stream_id, end_stream);
            if (end_stream) self->OnPeerEndStream(frame->hd.stream_id);
            break;
          case NGHTTP2_DATA:
            if (end_stream) self->OnPeerEndStream(frame->hd.stream_id);
            break;
          case NGHTTP2_GOAWAY:
            self->goaway_received_ = true;
            break;
          default:
            break;
        }
        return 0;
      });
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      callbacks,
      [](nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
         void* user_data) -> int {
        AsSession(user_data)->OnDataChunk(stream_id, View(data, len));
        return 0;
      });
  nghttp2_session_callbacks_set_on_stream_close_callback(
      callbacks,
      [](nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user_data) -> int {
        AsSession(user_data)->CloseStream(stream_id, error_code);
        return 0;
      });
  // DATA payload goes from the stream's send buffer straight into the session's output.
  nghttp2_session_callbacks_set_send_data_callback(
      callbacks, [](nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd, size_t length,
                    nghttp2_data_source*, void* user_data) -> int {
        constexpr size_t kFrameHeaderLength = 9;
        return AsSession(user_data)->WriteDataFrame(
            frame->hd.stream_id, View(framehd, kFrameHeaderLength), length);
      });
  nghttp2_session_callbacks_set_on_frame_send_callback(
      callbacks, [](nghttp2_session*, const nghttp2_frame* frame, void* user_data) -> int {
        if (frame->hd.type == NGHTTP2_GOAWAY) {
          AsSession(user_data)->OnGoAwaySent(frame->goaway.error_code);
        } else if (frame->hd.type == NGHTTP2_HEADERS) {
          AsSession(user_data)->OnHeadersSent(frame->hd.stream_id);
        }
        return 0;
      });
}

ssize_t SessionCallbacks::ReadStreamData(nghttp2_session*, int32_t stream_id, uint8_t*,
                                         size_t length, uint32_t* data_flags, nghttp2_data_source*,
                                         void* user_data) {
  return AsSession(user_data)->ReadStreamData(stream_id, length, data_flags);
}

}  // namespace weft::hbone
