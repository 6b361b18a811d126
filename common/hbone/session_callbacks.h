// The nghttp2 callbacks of a Session, in one place: each forwards to the Session passed as
// nghttp2's user_data. Internal to common/hbone (it exposes nghttp2 types).
#pragma once

#include <nghttp2/nghttp2.h>

namespace weft::hbone {

class SessionCallbacks {
 public:
  // Fills `callbacks` with every callback a Session needs.
  static void Install(nghttp2_session_callbacks* callbacks);
  // Behind each stream's data provider: sizes the next DATA frame from the stream's send
  // buffer (NGHTTP2_DATA_FLAG_NO_COPY: the payload is copied once, by WriteDataFrame).
  static ssize_t ReadStreamData(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                                size_t length, uint32_t* data_flags, nghttp2_data_source* source,
                                void* user_data);
};

}  // namespace weft::hbone
