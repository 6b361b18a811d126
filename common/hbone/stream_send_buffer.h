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
  // Appends exactly `n` bytes (n <= size()) to *out and drops them from the buffer.
  void AppendTo(std::string* out, size_t n);
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear();

 private:
  std::deque<std::string> chunks_;
  size_t front_offset_ = 0;  // bytes of chunks_.front() already read
  size_t size_ = 0;
};

}  // namespace weft::hbone
