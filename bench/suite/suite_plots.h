// PNG plots of a suite run, drawn by gnuplot (pngcairo) from data files written next to
// them: latency.png (p50/p90/p99/p99.9 per mode, one panel per request/response
// scenario, log scale) and throughput.png (bulk MiB/s per mode). The .dat and .gp files
// stay in the output directory, so a plot can be redrawn or restyled by hand.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/suite/suite_results.h"

namespace weft::bench {

// Returns the file names (relative to out_dir) of the plots drawn.
absl::StatusOr<std::vector<std::string>> DrawPlots(const SuiteResults& results,
                                                   const SuiteRun& run,
                                                   const std::string& out_dir);

}  // namespace weft::bench
