// One client run's numbers and their two renderings: a JSON object (what `weftctl bench`
// consumes; it takes medians and min-max over repetitions itself) and a human line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/client_options.h"
#include "bench/loadgen/error_counts.h"
#include "bench/loadgen/latency_histogram.h"

namespace weft::loadgen {

struct RunReport {
  ClientOptions options;
  // Completed requests (rr), connection cycles (connrate) or 0 (bulk) in the measured
  // window (after warm-up). Work that failed is in `errors`, not here.
  uint64_t count = 0;
  ErrorCounts errors;
  double duration_s = 0;  // the measured window: warm-up excluded
  double rate = 0;        // count / duration_s
  // rr/connrate: request + response payload bytes per second; bulk: payload per second.
  double throughput_mib_s = 0;
  std::vector<double> per_connection_mib_s;  // bulk only
  // Open loop: response complete - INTENDED send time (queueing behind a stall included).
  // Closed loop: response complete - send time. connrate: the whole connect..close cycle.
  LatencyHistogram latency;
  // response complete - ACTUAL send time: what a tool with coordinated omission would
  // report. Kept beside `latency` so the gap between them is visible.
  LatencyHistogram service_time;
};

std::string RenderJson(const RunReport& report);
std::string RenderHumanLine(const RunReport& report);

}  // namespace weft::loadgen
