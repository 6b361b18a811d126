// ztunnel's authoritative L4 check of an inbound connection (HBONE or plaintext), with the
// reference evaluator the agent also compiles into the kernel.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/event/socket_address.h"
#include "ztunnel/mesh_view.h"

namespace weft::ztunnel {

// OK when `view`'s policies allow `principal` (absent for plaintext) from `source_ip` to
// `target` on workload `self`; otherwise PermissionDenied naming the verdict and the
// policy that decided. NEEDS_L7 is a denial: ztunnel cannot enforce L7 (fail closed).
absl::Status AuthorizeInbound(const MeshView& view, const WorkloadInfo& self,
                              const std::optional<std::string>& principal,
                              const std::string& source_ip, const event::SocketAddress& target);

}  // namespace weft::ztunnel
