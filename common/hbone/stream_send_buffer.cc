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

void StreamSendBuffer::AppendTo(std::string* out, size_t n) {
  n = std::min(n, size_);
  size_ -= n;
  while (n > 0) {
    const std::string& front = chunks_.front();
    const size_t take = std::min(n, front.size() - front_offset_);
    out->append(front, front_offset_, take);
    n -= take;
    front_offset_ += take;
    if (front_offset_ == front.size()) {
      chunks_.pop_front();
      front_offset_ = 0;
    }
  }
}

void StreamSendBuffer::Clear() {
  chunks_.clear();
  front_offset_ = 0;
  size_ = 0;
}

}  // namespace weft::hbone
