// The three capture_bench scenarios. Each Run*Round measures every mode of its
// scenario once, in forward order on even repetitions and reversed on odd ones, so
// drift of a shared machine hits all modes alike; main() interleaves the rounds over
// the repetitions. A round never throws away a failure: it lands in the row's errors.
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "bench/bpf_run_stats.h"
#include "bench/capture_bench_env.h"
#include "bench/loopback_pair.h"
#include "bench/result_table.h"

namespace weft::bench {

struct CaptureBenchConfig {
  int warmup_rounds = 1;
  int repetitions = 5;
  int cost_connects = 2000;  // per mode per round, BPF run-time stats on
  int rate_connects = 4000;  // per mode per round, stats off
  LoopbackPairSpec pair;
};

class CaptureScenarios {
 public:
  CaptureScenarios(CaptureBenchEnv& env, const CaptureBenchConfig& config, ResultTable& table);

  // Finds the connect4 program to read run-time stats from.
  absl::Status Prepare();

  // (a) connect4 ns/call from kernel run-time stats: captured, excluded, loopback, unenrolled.
  void RunConnect4CostRound(int rep, bool record);
  // (b) connect/accept/close rate to the same listener: captured, hooks passing, no weft.
  void RunConnectionRateRound(int rep, bool record);
  // (c) loopback pair throughput and 1-byte request/response, short-circuit on vs off.
  void RunShortCircuitRound(int rep, bool record);

 private:
  CaptureBenchEnv& env_;
  CaptureBenchConfig config_;
  std::unique_ptr<CgroupProgram> connect4_;

  Row* cost_[4];  // captured, excluded, loopback, unenrolled
  Row* rate_[3];  // captured, hooks_pass, no_weft
  Row* rate_ratio_no_weft_;
  Row* rate_ratio_hooks_;
  Row* bulk_[2];  // on, off
  Row* p50_[2];
  Row* p99_[2];
  Row* bulk_ratio_;
  Row* p50_ratio_;
};

}  // namespace weft::bench
