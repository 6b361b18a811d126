// capture_bench: what the eBPF capture path costs, measured in one invocation on the
// machine it runs on. See bench/README.md for what each row means.
//
//   capture_bench [--quick] [--out FILE] [--repetitions N]
//
// Exit status: 0 all rows measured, 1 some row failed (results still written),
// 2 setup or usage error, 130 interrupted (partial results written).
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/capture_bench_env.h"
#include "bench/capture_scenarios.h"
#include "bench/machine_facts.h"
#include "bench/result_table.h"
#include "bench/run_report.h"
#include "bench/stop_signal.h"
#include "common/cli/flag_set.h"

namespace weft::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  bool quick = false;
  std::string out = "bench-results/capture.json";
  int repetitions = 5;
};

// Returns the exit status to stop with (0 after --help, 2 for a bad flag), or -1 to run.
int ParseFlags(int argc, char** argv, Flags* flags) {
  weft::cli::FlagSet set("capture_bench [flags]", "What the eBPF capture path costs, measured on this machine.");
  int64_t repetitions = 0;
  set.Bool("quick", &flags->quick, false, "fewer connects and shorter transfers (< 15 s)");
  set.String("out", &flags->out, flags->out, "JSON results");
  set.Int("repetitions", &repetitions, 5, "measured rounds after the warm-up (at least 1)");
  absl::StatusOr<std::vector<std::string>> positional = set.Parse(weft::cli::Args(argc, argv));
  if (positional.ok() && set.help_requested()) {
    fputs(set.Usage().c_str(), stdout);
    return 0;
  }
  if (!positional.ok() || !positional->empty() || repetitions < 1) {
    const std::string why = !positional.ok()     ? std::string(positional.status().message())
                            : repetitions < 1    ? "--repetitions: at least 1"
                                                 : "unexpected argument " + (*positional)[0];
    fprintf(stderr, "capture_bench: %s\n%s", why.c_str(), set.Usage().c_str());
    return 2;
  }
  flags->repetitions = static_cast<int>(repetitions);
  return -1;
}

CaptureBenchConfig ConfigFor(const Flags& flags) {
  CaptureBenchConfig c;
  c.repetitions = flags.repetitions;
  if (flags.quick) {
    c.cost_connects = 500;
    c.rate_connects = 1000;
    c.pair.bulk_seconds = 0.15;
    c.pair.rr_seconds = 0.15;
    c.pair.max_round_trips = 5000;
  }
  return c;
}

int Run(const Flags& flags) {
  const auto start = Clock::now();
  // Past this no new round starts; rows left short are marked, not dropped.
  const double budget_s = flags.quick ? 13 : 50;
  const CaptureBenchConfig config = ConfigFor(flags);
  const MachineFacts machine = CollectMachineFacts();
  ResultTable table;

  auto env = CaptureBenchEnv::Create();
  if (!env.ok()) {
    fprintf(stderr, "capture_bench: setup: %s\n", env.status().ToString().c_str());
    return 2;
  }
  CaptureScenarios scenarios(**env, config, table);
  if (absl::Status s = scenarios.Prepare(); !s.ok()) {
    fprintf(stderr, "capture_bench: setup: %s\n", s.ToString().c_str());
    return 2;
  }
  fprintf(stderr, "capture_bench: %d warm-up + %d rounds on %d cores, %s\n", config.warmup_rounds,
          config.repetitions, machine.cores, machine.kernel.c_str());
  std::string stopped_why;
  for (int round = -config.warmup_rounds; round < config.repetitions; ++round) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (StopRequested()) {
      stopped_why = "interrupted";
      break;
    }
    if (elapsed > budget_s) {
      stopped_why = "time budget reached";
      break;
    }
    const bool record = round >= 0;
    const int rep = record ? round : 0;
    scenarios.RunConnect4CostRound(rep, record);
    scenarios.RunConnectionRateRound(rep, record);
    scenarios.RunShortCircuitRound(rep, record);
    fprintf(stderr, "capture_bench: %s %d done (%.1f s)\n", record ? "round" : "warm-up",
            record ? round + 1 : round + config.warmup_rounds + 1,
            std::chrono::duration<double>(Clock::now() - start).count());
  }
  table.MarkShortRows(static_cast<size_t>(config.repetitions),
                      stopped_why.empty() ? "repetitions failed" : stopped_why);
  env->reset();  // netns, cgroups and pins are gone before we report

  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const std::vector<std::pair<std::string, double>> cfg = {
      {"quick", flags.quick ? 1 : 0},
      {"warmup_rounds", config.warmup_rounds},
      {"repetitions", config.repetitions},
      {"cost_connects_per_mode", config.cost_connects},
      {"rate_connects_per_mode", config.rate_connects},
      {"bulk_seconds", config.pair.bulk_seconds},
      {"rr_seconds", config.pair.rr_seconds},
      {"rr_max_round_trips", config.pair.max_round_trips},
  };
  return ReportRun("capture_bench", flags.quick, machine, table, cfg, wall, flags.out);
}

}  // namespace
}  // namespace weft::bench

int main(int argc, char** argv) {
  weft::bench::Flags flags;
  if (int status = weft::bench::ParseFlags(argc, argv, &flags); status >= 0) return status;
  if (geteuid() != 0) {
    fprintf(stderr, "capture_bench: needs root (netns, cgroups, BPF)\n");
    return 2;
  }
  weft::bench::InstallStopHandlers();
  return weft::bench::Run(flags);
}
