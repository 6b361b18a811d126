// The request framing shared by the client's rr/connrate scenarios and the echo server:
// an 8-byte header (uint32 request size, uint32 response size, both network byte order)
// then `request size` payload bytes; the server answers with `response size` bytes.
// Payload content is never looked at (zeros are sent), so the cost measured is transport,
// not parsing.
#pragma once

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace weft::loadgen {

inline constexpr size_t kFrameHeaderSize = 8;
// Larger messages are refused (the server closes the connection): 16 MiB.
inline constexpr uint32_t kMaxMessageSize = 16u << 20;

struct FrameHeader {
  uint32_t request_size = 0;
  uint32_t response_size = 0;
};

inline void EncodeFrameHeader(const FrameHeader& header, uint8_t out[kFrameHeaderSize]) {
  const uint32_t request = htonl(header.request_size);
  const uint32_t response = htonl(header.response_size);
  std::memcpy(out, &request, 4);
  std::memcpy(out + 4, &response, 4);
}

inline FrameHeader DecodeFrameHeader(const uint8_t in[kFrameHeaderSize]) {
  uint32_t request = 0;
  uint32_t response = 0;
  std::memcpy(&request, in, 4);
  std::memcpy(&response, in + 4, 4);
  return {ntohl(request), ntohl(response)};
}

inline bool FrameHeaderAcceptable(const FrameHeader& header) {
  return header.request_size <= kMaxMessageSize && header.response_size <= kMaxMessageSize;
}

}  // namespace weft::loadgen
