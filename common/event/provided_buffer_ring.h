// A provided-buffer ring (IORING_REGISTER_PBUF_RING): a pool of equally sized receive buffers
// the kernel picks from when a multishot recv has data. liburing 2.3 has no
// io_uring_setup_buf_ring, so the ring memory is mmap'ed and registered here.
//
// Ownership cycle: the kernel takes a buffer, the completion names it (IORING_CQE_F_BUFFER,
// id in the upper 16 bits of cqe->flags), the loop hands its bytes to a handler, then
// Recycle() gives it back. A buffer not recycled is lost to the pool until destruction.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"

namespace weft::event {

class ProvidedBufferRing {
 public:
  // `count` must be a power of two in [1, 32768]; `buffer_size` > 0.
  static absl::StatusOr<std::unique_ptr<ProvidedBufferRing>> Create(io_uring* ring,
                                                                    uint16_t group_id,
                                                                    uint32_t count,
                                                                    uint32_t buffer_size);
  ~ProvidedBufferRing();
  ProvidedBufferRing(const ProvidedBufferRing&) = delete;
  ProvidedBufferRing& operator=(const ProvidedBufferRing&) = delete;

  uint16_t group_id() const { return group_id_; }
  uint32_t buffer_size() const { return buffer_size_; }

  // The first `length` bytes of buffer `id` (as reported by a completion).
  std::string_view View(uint16_t id, uint32_t length) const;
  // Returns buffer `id` to the kernel.
  void Recycle(uint16_t id);

 private:
  ProvidedBufferRing(io_uring* ring, uint16_t group_id, uint32_t count, uint32_t buffer_size);

  io_uring* ring_;
  uint16_t group_id_;
  uint32_t count_;
  uint32_t buffer_size_;
  io_uring_buf_ring* ring_memory_ = nullptr;
  size_t ring_memory_bytes_ = 0;
  char* buffers_ = nullptr;
  size_t buffers_bytes_ = 0;
  bool registered_ = false;
};

}  // namespace weft::event
