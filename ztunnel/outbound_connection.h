// A connection a pod's app made, captured by the kernel into the pod's 15001 listener:
// read its original destination, resolve a service VIP to an endpoint, and carry it as an
// HBONE stream over a pooled mTLS connection when the destination is in the mesh, or as
// plain TCP from the pod's netns when it is not.
#pragma once

#include <memory>

#include "common/event/connection_handler.h"
#include "ztunnel/shared_state.h"
#include "ztunnel/worker.h"

namespace weft::ztunnel {

// The handler for connection `id` just accepted on `pod`'s outbound listener, or nullptr to
// refuse it (the reason is counted and logged).
std::unique_ptr<event::ConnectionHandler> AcceptOutbound(Worker& worker,
                                                         const std::shared_ptr<const PodContext>& pod,
                                                         event::ConnectionId id);

// A W3C traceparent with fresh random trace and span ids.
std::string NewTraceparent();

}  // namespace weft::ztunnel
