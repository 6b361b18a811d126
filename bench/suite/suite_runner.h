// The rounds of `weftctl bench`: every measured round runs every scenario in every mode
// (modes forward on even rounds, reversed on odd ones, so drift hits them alike), each
// as weft-loadgen client runs; the mesh processes' CPU and peak RSS are read around each
// run. Then one per-hop trace of the 1 KiB request/response per mode.
#pragma once

#include <string>
#include <vector>

#include "bench/suite/bench_world.h"
#include "bench/suite/suite_catalog.h"
#include "bench/suite/suite_results.h"

namespace weft::bench {

struct SuiteOptions {
  std::string loadgen;  // weft-loadgen binary
  RunDurations durations;
  std::vector<ScenarioSpec> scenarios;
  std::vector<ModeSpec> modes;
  bool trace_hops = true;
};

// Fills `results`; returns early (rows marked short) when a stop is requested.
void RunSuiteRounds(BenchWorld& world, const SuiteOptions& options, SuiteResults* results);

// Traces rr 1 KiB on one connection at a low fixed rate in each mode and adds per-hop
// rows (scenario "rr_1KiB_c1", metrics hop_p50/p90/p99/p999 in µs, hop_count).
void RunHopTraces(BenchWorld& world, const SuiteOptions& options, SuiteResults* results);

}  // namespace weft::bench
