// The end of every benchmark run: the header line and table on stdout, the JSON result file,
// and the exit status the benches share (README.md): 0 every row measured, 1 some
// repetition failed, 2 the results could not be written, 130 interrupted.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "bench/machine_facts.h"
#include "bench/result_table.h"

namespace weft::bench {

int ReportRun(const std::string& benchmark, bool quick, const MachineFacts& machine,
              const ResultTable& table,
              const std::vector<std::pair<std::string, double>>& config, double wall_seconds,
              const std::string& out_path);

}  // namespace weft::bench
