#include "common/event/provided_buffer_ring.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace weft::event {

ProvidedBufferRing::ProvidedBufferRing(io_uring* ring, uint16_t group_id, uint32_t count,
                                       uint32_t buffer_size)
    : ring_(ring), group_id_(group_id), count_(count), buffer_size_(buffer_size) {}

absl::StatusOr<std::unique_ptr<ProvidedBufferRing>> ProvidedBufferRing::Create(
    io_uring* ring, uint16_t group_id, uint32_t count, uint32_t buffer_size) {
  if (count == 0 || count > 32768 || (count & (count - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("provided buffer count ", count, " must be a power of two in [1, 32768]"));
  }
  if (buffer_size == 0) {
    return absl::InvalidArgumentError("provided buffer size must be > 0");
  }
  std::unique_ptr<ProvidedBufferRing> self(
      new ProvidedBufferRing(ring, group_id, count, buffer_size));

  // The ring of io_uring_buf descriptors must be page aligned: mmap gives that.
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  self->ring_memory_bytes_ = ((count * sizeof(io_uring_buf)) + page - 1) / page * page;
  void* mem = ::mmap(nullptr, self->ring_memory_bytes_, PROT_READ | PROT_WRITE,
                     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    self->ring_memory_bytes_ = 0;
    return absl::ErrnoToStatus(errno, "mmap of the provided buffer ring");
  }
  self->ring_memory_ = static_cast<io_uring_buf_ring*>(mem);

  self->buffers_bytes_ = static_cast<size_t>(count) * buffer_size;
  mem = ::mmap(nullptr, self->buffers_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE,
               -1, 0);
  if (mem == MAP_FAILED) {
    self->buffers_bytes_ = 0;
    return absl::ErrnoToStatus(errno, "mmap of the provided receive buffers");
  }
  self->buffers_ = static_cast<char*>(mem);

  io_uring_buf_reg reg;
  std::memset(&reg, 0, sizeof(reg));
  reg.ring_addr = reinterpret_cast<uint64_t>(self->ring_memory_);
  reg.ring_entries = count;
  reg.bgid = group_id;
  int rc = io_uring_register_buf_ring(ring, &reg, 0);
  if (rc < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "io_uring feature missing: provided buffer rings (IORING_REGISTER_PBUF_RING, Linux "
        "5.19): register failed: ",
        std::strerror(-rc)));
  }
  self->registered_ = true;

  io_uring_buf_ring_init(self->ring_memory_);
  const int mask = io_uring_buf_ring_mask(count);
  for (uint32_t i = 0; i < count; ++i) {
    io_uring_buf_ring_add(self->ring_memory_, self->buffers_ + static_cast<size_t>(i) * buffer_size,
                          buffer_size, static_cast<uint16_t>(i), mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(self->ring_memory_, static_cast<int>(count));
  return self;
}

ProvidedBufferRing::~ProvidedBufferRing() {
  if (registered_) io_uring_unregister_buf_ring(ring_, group_id_);
  if (buffers_ != nullptr) ::munmap(buffers_, buffers_bytes_);
  if (ring_memory_ != nullptr) ::munmap(ring_memory_, ring_memory_bytes_);
}

std::string_view ProvidedBufferRing::View(uint16_t id, uint32_t length) const {
  if (id >= count_ || length > buffer_size_) return {};
  return std::string_view(buffers_ + static_cast<size_t>(id) * buffer_size_, length);
}

void ProvidedBufferRing::Recycle(uint16_t id) {
  if (id >= count_) return;
  io_uring_buf_ring_add(ring_memory_, buffers_ + static_cast<size_t>(id) * buffer_size_,
                        buffer_size_, id, io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(ring_memory_, 1);
}

}  // namespace weft::event
