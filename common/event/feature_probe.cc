#include "common/event/feature_probe.h"

#include <cerrno>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace weft::event {
namespace {

struct RequiredFeatureFlag {
  uint32_t flag;
  const char* name;
  const char* why;
};

// IORING_FEAT_* bits the loop depends on.
constexpr RequiredFeatureFlag kRequiredFlags[] = {
    {IORING_FEAT_NODROP, "IORING_FEAT_NODROP (Linux 5.5)",
     "multishot operations can outrun the completion queue; losing a CQE loses a connection"},
    {IORING_FEAT_FAST_POLL, "IORING_FEAT_FAST_POLL (Linux 5.7)",
     "socket operations must be poll-driven instead of blocking an io-wq worker each"},
    {IORING_FEAT_SUBMIT_STABLE, "IORING_FEAT_SUBMIT_STABLE (Linux 5.5)",
     "timeout specs and msghdrs may be reused once submitted"},
};

struct RequiredOpcode {
  int opcode;
  const char* name;
  const char* why;
};

// Multishot accept/recv and buffer rings are request flags, not opcodes, so the probe cannot
// see them directly. Each is checked through an opcode that arrived in the same release:
// IORING_OP_SOCKET and multishot accept, fd-keyed cancel and buffer rings in 5.19;
// IORING_OP_SEND_ZC and multishot recv in 6.0. Buffer-ring registration is additionally
// exercised for real when the loop registers its ring.
constexpr RequiredOpcode kRequiredOpcodes[] = {
    {IORING_OP_ACCEPT, "IORING_OP_ACCEPT", "listeners"},
    {IORING_OP_RECV, "IORING_OP_RECV", "connection reads"},
    {IORING_OP_SENDMSG, "IORING_OP_SENDMSG", "connection writes"},
    {IORING_OP_CONNECT, "IORING_OP_CONNECT", "outbound connections"},
    {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT", "timers"},
    {IORING_OP_TIMEOUT_REMOVE, "IORING_OP_TIMEOUT_REMOVE", "timer cancellation"},
    {IORING_OP_LINK_TIMEOUT, "IORING_OP_LINK_TIMEOUT (linked timeouts)", "connect timeouts"},
    {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL", "closing connections"},
    {IORING_OP_READ, "IORING_OP_READ", "cross-thread wake-ups on an eventfd"},
    {IORING_OP_SOCKET,
     "multishot accept + provided buffer rings + fd-keyed cancel (Linux 5.19, probed via "
     "IORING_OP_SOCKET)",
     "listeners and reads"},
    {IORING_OP_SEND_ZC, "multishot recv (Linux 6.0, probed via IORING_OP_SEND_ZC)",
     "connection reads"},
};

}  // namespace

absl::StatusOr<RingCapabilities> FeatureProbe::Probe(io_uring* ring, uint32_t features) {
  io_uring_probe* probe = io_uring_get_probe_ring(ring);
  if (probe == nullptr) {
    return absl::FailedPreconditionError(
        "io_uring opcode probe (IORING_REGISTER_PROBE, Linux 5.6) is not available");
  }
  RingCapabilities caps;
  caps.features = features;
  for (int op = 0; op <= probe->last_op && op < static_cast<int>(caps.supported_opcodes.size());
       ++op) {
    if (io_uring_opcode_supported(probe, op)) caps.supported_opcodes.set(op);
  }
  io_uring_free_probe(probe);
  return caps;
}

absl::Status FeatureProbe::CheckRequired(const RingCapabilities& caps) {
  for (const RequiredFeatureFlag& f : kRequiredFlags) {
    if ((caps.features & f.flag) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("io_uring feature missing: ", f.name, " is required because ", f.why));
    }
  }
  for (const RequiredOpcode& op : kRequiredOpcodes) {
    if (!caps.supported_opcodes.test(op.opcode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("io_uring feature missing: ", op.name, " is required for ", op.why));
    }
  }
  return absl::OkStatus();
}

}  // namespace weft::event
