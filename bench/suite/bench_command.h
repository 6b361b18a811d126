// `weftctl bench`: the benchmark suite's entry point (README.md here), and
// `weftctl bench latency`, the live per-hop view of a running lab.
#pragma once

#include <string>
#include <vector>

namespace weft::bench {

// args: everything after "bench". Exit status: 0 every row measured, 1 some row failed
// (results still written), 2 setup or usage error, 130 interrupted.
int RunBenchCommand(const std::vector<std::string>& args);

}  // namespace weft::bench
