// A plaintext connection the kernel's sk_lookup steered into a pod's 15006 listener: allowed
// only when the pod is PERMISSIVE and policy allows a source with no principal; then
// connected to the app inside the pod and relayed.
#pragma once

#include <memory>

#include "common/event/connection_handler.h"
#include "ztunnel/worker.h"

namespace weft::ztunnel {

std::unique_ptr<event::ConnectionHandler> AcceptInboundPlaintext(
    Worker& worker, const std::shared_ptr<const PodContext>& pod, event::ConnectionId id);

}  // namespace weft::ztunnel
