// The bytes the bulk-transfer test sends: pseudo-random (so nothing compresses or repeats by
// accident) with a known ASCII marker at the start of every 64 KiB block, so a capture of the
// wire can tell plaintext from ciphertext. Sender and receiver regenerate the same stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace weft::ztunnel::testing {

inline constexpr std::string_view kPlaintextMarker = "WEFT-PLAINTEXT-MARKER-7f3a";
inline constexpr size_t kMarkerPeriod = 64 * 1024;

class PayloadStream {
 public:
  explicit PayloadStream(uint64_t seed) : state_(seed | 1) {}

  // The next `n` bytes of the stream.
  void Next(char* out, size_t n) {
    for (size_t i = 0; i < n; ++i, ++offset_) {
      const size_t in_block = offset_ % kMarkerPeriod;
      if (in_block < kPlaintextMarker.size()) {
        out[i] = kPlaintextMarker[in_block];
        continue;
      }
      if (bits_left_ == 0) {
        // xorshift64: cheap, and the receiver can regenerate it byte for byte.
        state_ ^= state_ << 13;
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        word_ = state_;
        bits_left_ = 64;
      }
      out[i] = static_cast<char>(word_ & 0xff);
      word_ >>= 8;
      bits_left_ -= 8;
    }
  }

  uint64_t offset() const { return offset_; }

 private:
  uint64_t state_;
  uint64_t word_ = 0;
  int bits_left_ = 0;
  uint64_t offset_ = 0;
};

}  // namespace weft::ztunnel::testing
