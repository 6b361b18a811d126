// weft-bench-latency: `weftctl bench latency` as a stand-alone binary, for machines
// (and CI steps) that run the tracer without the rest of weftctl.
#include "bench/hoptrace/bench_latency_command.h"
#include "common/cli/flag_set.h"

int main(int argc, char** argv) {
  return weft::hoptrace::RunBenchLatency(weft::cli::Args(argc, argv));
}
