// `weftctl bpf stats`: the kernel's per-workload counters (captured, passed, denied,
// errors), connect-latency and smoothed-RTT histograms as percentile estimates,
// in-kernel policy denials and inbound steering counters, read from the pinned maps
// and named with the agent's /debug/workloads when the agent answers.
#pragma once

#include <string>
#include <vector>

namespace weft::weftctl {

int RunBpfStats(const std::vector<std::string>& args);

}  // namespace weft::weftctl
