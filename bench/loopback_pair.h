// The pod side of the short-circuit benchmark: a client/server TCP pair over
// 127.0.0.1 inside the pod netns (the shape of application ↔ ztunnel), measured for
// bulk throughput (one direction, time-bounded) and 1-byte request/response latency
// (closed loop, one request in flight). Runs in a forked child in the pod.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace weft::bench {

struct LoopbackPairSpec {
  double bulk_seconds = 0.5;
  int max_round_trips = 20000;
  double rr_seconds = 0.5;  // request/response stops at whichever limit comes first
};

struct LoopbackPairResult {
  double bulk_mib_per_s = 0;
  int round_trips = 0;
  double rr_p50_us = 0;
  double rr_p99_us = 0;
  std::string error;  // empty when both parts completed with intact data
};

LoopbackPairResult RunLoopbackPair(const LoopbackPairSpec& spec);

std::string EncodeLoopbackPair(const LoopbackPairResult& result);
absl::StatusOr<LoopbackPairResult> DecodeLoopbackPair(const std::string& text);

}  // namespace weft::bench
