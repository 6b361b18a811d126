#include "common/hbone/stream_send_buffer.h"

#include <algorithm>
#include <cstring>

namespace weft::hbone {
namespace {
// Small writes are coalesced into the last chunk so a stream of tiny SendData calls does not
// cost one allocation each; big writes get their own chunk.
constexpr size_t kCoalesceBelow = 16 * 1024;
}  // namespace

void StreamSendBuffer::Append(std::string_view data) {
  if (data.empty()) return;
  if (!chunks_.empty() && chunks_.back().size() + data.size() <= kCoalesceBelow) {
    chunks_.back().append(data);
  } else {
    chunks_.emplace_back(data);
  }
  size_ += data.size();
}

size_t StreamSendBuffer::ReadInto(uint8_t* dst, size_t max) {
  size_t copied = 0;
  while (copied < max && !chunks_.empty()) {
    const std::string& front = chunks_.front();
    size_t n = std::min(max - copied, front.size() - front_offset_);
    std::memcpy(dst + copied, front.data() + front_offset_, n);
    copied += n;
    front_offset_ += n;
    if (front_offset_ == front.size()) {
      chunks_.pop_front();
      front_offset_ = 0;
    }
  }
  size_ -= copied;
  return copied;
}

void StreamSendBuffer::Clear() {
  chunks_.clear();
  front_offset_ = 0;
  size_ = 0;
}

}  // namespace weft::hbone
