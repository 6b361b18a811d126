// `weftctl bench latency`: attaches the per-hop tracer to a running lab and prints the
// per-hop latency of one workload pair (client app → ztunnels → server app and back)
// every interval, until Ctrl-C or --duration. Needs root.
#pragma once

#include <string>
#include <vector>

namespace weft::hoptrace {

// `args` are the arguments after "bench latency" (as weft::cli::Args returns them):
//   --lab NAME (required) --from NS/POD --to NS/POD --interval S (2) --duration S
//   (0 = until Ctrl-C, at most 3600) --output text|json
// Returns the exit status: 0 on success, 1 with a one-line reason on stderr, 2 on a
// usage error.
int RunBenchLatency(const std::vector<std::string>& args);

}  // namespace weft::hoptrace
