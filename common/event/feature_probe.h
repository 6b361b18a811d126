// Decides whether the running kernel's io_uring can carry the event loop.
//
// The loop relies on multishot accept, multishot recv with provided buffer rings, linked
// timeouts and fd-keyed cancellation. Kernels without them would need a different (slower)
// code path that weft does not carry, so the loop refuses to start and the error names the
// missing feature instead of failing later with EINVAL on the first submission.
#pragma once

#include <liburing.h>

#include <bitset>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weft::event {

// What a ring reported about itself; plain data so tests can knock out single features.
struct RingCapabilities {
  uint32_t features = 0;               // IORING_FEAT_* from io_uring_params
  std::bitset<256> supported_opcodes;  // indexed by IORING_OP_*
};

class FeatureProbe {
 public:
  // Reads the opcode probe of an initialised ring; `features` is what io_uring_queue_init_params
  // returned in io_uring_params::features.
  static absl::StatusOr<RingCapabilities> Probe(io_uring* ring, uint32_t features);

  // OK when every required feature is present; otherwise FailedPrecondition naming the first
  // missing feature and the kernel version that introduced it.
  static absl::Status CheckRequired(const RingCapabilities& caps);
};

}  // namespace weft::event
