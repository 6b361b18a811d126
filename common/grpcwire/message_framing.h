// gRPC's length-prefixed message framing (PROTOCOL-HTTP2 "Length-Prefixed-Message"): one byte
// compressed flag, four bytes big-endian length, then the message. DATA frames carry these
// without regard to message boundaries, so the reader reassembles them from arbitrary chunks.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace weft::grpcwire {

inline constexpr size_t kMessagePrefixBytes = 5;
inline constexpr size_t kDefaultMaxMessageBytes = 4 << 20;

// The prefix and `message`, ready to be sent as (part of) a DATA frame. Never compressed.
std::string FrameMessage(std::string_view message);

// Reassembles messages from the bytes of one stream's DATA frames.
class MessageDeframer {
 public:
  explicit MessageDeframer(size_t max_message_bytes = kDefaultMaxMessageBytes)
      : max_message_bytes_(max_message_bytes) {}

  void Append(std::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }

  // The next complete message, nullopt when more bytes are needed. Errors are final for the
  // stream: Internal for a compressed (we never offer compression) or malformed prefix,
  // ResourceExhausted for a message over the maximum size.
  absl::StatusOr<std::optional<std::string>> Next();

  // True when bytes of an incomplete message are buffered: a stream ending now is truncated.
  bool HasPartialMessage() const { return offset_ < buffer_.size(); }

 private:
  const size_t max_message_bytes_;
  std::string buffer_;
  size_t offset_ = 0;  // start of the first unconsumed byte in buffer_
};

}  // namespace weft::grpcwire
