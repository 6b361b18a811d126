// "Does something accept TCP connections at HOST:PORT, seen from inside this network
// namespace?" — how the bench modes know a relay they started is up. A probe connects
// and closes at once; it sends nothing.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace weft::bench::modes {

// One connect attempt from inside the netns at `netns_path`, bounded by `timeout_ms`.
// OK when the handshake completed; otherwise the connect error (refused, timed out, ...).
absl::Status ProbeTcpConnect(const std::string& netns_path, const std::string& host, uint16_t port,
                             int timeout_ms = 300);

}  // namespace weft::bench::modes
