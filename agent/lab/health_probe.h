// Asks an agent's admin server for /healthz. The agent listens on its node's underlay
// address, which exists only inside the node's network namespace, so the probe's
// socket is created there.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace weft::lab {

// OK when GET /healthz on `admin_addr` ("ip:port") inside `netns` answers 2xx within
// `timeout`; otherwise why not (refused, timed out, "HTTP 503").
absl::Status ProbeHealthz(const std::string& netns, const std::string& admin_addr,
                          absl::Duration timeout);

}  // namespace weft::lab
