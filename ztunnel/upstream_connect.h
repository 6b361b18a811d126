// The upstream leg of a relay when it is plain TCP: a socket made inside the pod's netns,
// marked so the kernel capture lets it pass, connected on the worker's loop. Shared by the
// outbound passthrough and both inbound paths (to the app in the pod).
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/event/socket_address.h"
#include "ztunnel/relay.h"
#include "ztunnel/shared_state.h"
#include "ztunnel/worker.h"

namespace weft::ztunnel {

// Starts the connect; the leg attaches to `relay` once it completes. On failure the relay
// is marked failed with `failure_reason` and the error is returned.
absl::Status ConnectUpstream(Worker& worker, const PodContext& pod,
                             const event::SocketAddress& target,
                             const std::shared_ptr<Relay>& relay,
                             const std::string& failure_reason);

}  // namespace weft::ztunnel
