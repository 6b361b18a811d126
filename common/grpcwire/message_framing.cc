#include "common/grpcwire/message_framing.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace weft::grpcwire {

std::string FrameMessage(std::string_view message) {
  const uint32_t length = static_cast<uint32_t>(message.size());
  std::string framed;
  framed.reserve(kMessagePrefixBytes + message.size());
  framed.push_back('\0');
  framed.push_back(static_cast<char>(length >> 24));
  framed.push_back(static_cast<char>(length >> 16));
  framed.push_back(static_cast<char>(length >> 8));
  framed.push_back(static_cast<char>(length));
  framed.append(message.data(), message.size());
  return framed;
}

absl::StatusOr<std::optional<std::string>> MessageDeframer::Next() {
  const size_t available = buffer_.size() - offset_;
  if (available < kMessagePrefixBytes) return std::nullopt;
  const auto* prefix = reinterpret_cast<const uint8_t*>(buffer_.data() + offset_);
  if (prefix[0] == 1) {
    return absl::InternalError(
        "the server sent a compressed message; this client offers no compression");
  }
  if (prefix[0] != 0) {
    return absl::InternalError(
        absl::StrCat("malformed message prefix: compressed flag ", static_cast<int>(prefix[0])));
  }
  const size_t length = (size_t{prefix[1]} << 24) | (size_t{prefix[2]} << 16) |
                        (size_t{prefix[3]} << 8) | size_t{prefix[4]};
  if (length > max_message_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat("the server sent a message of ", length,
                                                     " bytes; the limit is ", max_message_bytes_));
  }
  if (available - kMessagePrefixBytes < length) return std::nullopt;
  std::string message = buffer_.substr(offset_ + kMessagePrefixBytes, length);
  offset_ += kMessagePrefixBytes + length;
  // Compact once everything buffered is consumed, or when the dead prefix outweighs the rest,
  // so the buffer never grows with the length of the stream.
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > buffer_.size() / 2) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return message;
}

}  // namespace weft::grpcwire
