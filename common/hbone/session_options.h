// Plain value types shared by both HBONE session roles: how a session is sized, and what a
// CONNECT request carries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace weft::hbone {

struct SessionOptions {
  uint32_t max_concurrent_streams = 100;  // server: advertised SETTINGS; client: also our own cap
  uint32_t initial_stream_window = 4 << 20;  // SETTINGS_INITIAL_WINDOW_SIZE we advertise
  uint32_t connection_window = 16 << 20;     // connection-level window we grant
  uint32_t max_frame_size = 16384;
  // Above this, StreamEvents::OnSendBufferDrained is owed later (backpressure).
  size_t stream_send_buffer_limit = 1 << 20;
  // HTTP/2 bytes serialized per step when input (a WINDOW_UPDATE, say) releases data: the
  // owner takes more as its socket drains, so a large window never becomes one large copy.
  size_t output_batch = 64 * 1024;
};

struct ConnectRequest {
  std::string authority;    // "10.244.1.2:8080" (IPv6: "[fd00::1]:8080")
  std::string forwarded;    // RFC 7239 value, e.g. "for=10.244.0.2"; may be empty
  std::string traceparent;  // W3C trace context "00-<32 hex>-<16 hex>-01"; may be empty
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

}  // namespace weft::hbone
