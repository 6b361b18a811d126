// The pod side of the connection benchmarks: n cycles of connect → read the
// listener's one-line greeting → close, run inside a forked child that joined the pod's
// cgroup and netns. Results travel back over a pipe as one text line.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace weft::bench {

struct ConnectCycleSpec {
  std::string ip;          // destination as the application dials it
  uint16_t base_port = 0;  // destination port; + i % port_spread when spread > 1
  int port_spread = 1;
  int count = 0;
  double max_seconds = 10;  // the loop stops (and reports failures) past this
};

struct ConnectCycleResult {
  int attempted = 0;
  int failed = 0;
  double seconds = 0;
  std::string first_error;  // "connect: ECONNREFUSED", empty when none failed
};

// In the child. Never blocks more than ~2 s on one socket.
ConnectCycleResult RunConnectCycles(const ConnectCycleSpec& spec);

std::string EncodeConnectCycles(const ConnectCycleResult& result);
absl::StatusOr<ConnectCycleResult> DecodeConnectCycles(const std::string& text);

}  // namespace weft::bench
