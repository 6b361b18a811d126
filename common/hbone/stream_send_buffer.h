// Bytes queued by Session::SendData that the peer's flow-control window has not let out yet.
// A queue of chunks, so appending never moves what is already buffered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace weft::hbone {

class StreamSendBuffer {
 public:
  void Append(std::string_view data);
  // Copies up to `max` bytes into `dst` and drops them from the buffer; returns how many.
  size_t ReadInto(uint8_t* dst, size_t max);
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear();

 private:
  std::deque<std::string> chunks_;
  size_t front_offset_ = 0;  // bytes of chunks_.front() already read
  size_t size_ = 0;
};

}  // namespace weft::hbone
