// mesh_bench: what the mesh costs on the lab's two-node path, measured against the same
// path without it in one invocation. See bench/README.md for the modes and rows.
//
//   mesh_bench [--quick] [--out FILE] [--repetitions N] [--weftctl PATH] [--topology FILE]
//
// Exit status: 0 all rows measured, 1 some row failed (results still written),
// 2 setup or usage error, 130 interrupted (partial results written).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/status/statusor.h"
#include "bench/machine_facts.h"
#include "bench/mesh_lab.h"
#include "bench/mesh_scenarios.h"
#include "bench/result_table.h"
#include "bench/run_report.h"
#include "bench/stop_signal.h"
#include "common/cli/flag_set.h"

namespace weft::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  bool quick = false;
  std::string out = "bench-results/mesh.json";
  int repetitions = 5;
  std::string weftctl = MESH_BENCH_WEFTCTL;
  std::string topology = MESH_BENCH_TOPOLOGY;
};

// Returns the exit status to stop with (0 after --help, 2 for a bad flag), or -1 to run.
int ParseFlags(int argc, char** argv, Flags* flags) {
  weft::cli::FlagSet set("mesh_bench [flags]", "What the mesh costs on the lab's two-node path, against the same path without it.");
  int64_t repetitions = 0;
  set.Bool("quick", &flags->quick, false, "smaller transfers and 200 idle connections (< 60 s)");
  set.String("out", &flags->out, flags->out, "JSON results");
  set.Int("repetitions", &repetitions, 5, "measured rounds after the warm-up (at least 1)");
  set.String("weftctl", &flags->weftctl, flags->weftctl,
             "weftctl, with weft-agent and weft-ztunnel beside it");
  set.String("topology", &flags->topology, flags->topology, "lab topology");
  absl::StatusOr<std::vector<std::string>> positional = set.Parse(weft::cli::Args(argc, argv));
  if (positional.ok() && set.help_requested()) {
    fputs(set.Usage().c_str(), stdout);
    return 0;
  }
  if (!positional.ok() || !positional->empty() || repetitions < 1) {
    const std::string why = !positional.ok()     ? std::string(positional.status().message())
                            : repetitions < 1    ? "--repetitions: at least 1"
                                                 : "unexpected argument " + (*positional)[0];
    fprintf(stderr, "mesh_bench: %s\n%s", why.c_str(), set.Usage().c_str());
    return 2;
  }
  flags->repetitions = static_cast<int>(repetitions);
  return -1;
}

MeshBenchConfig ConfigFor(const Flags& flags) {
  MeshBenchConfig c;
  c.repetitions = flags.repetitions;
  if (flags.quick) {
    c.warmup_bulk_bytes = 32ull << 20;
    c.bulk_target_seconds = 0.3;
    c.bulk_min_bytes = 8ull << 20;
    c.bulk_max_bytes = 1ull << 30;
    c.idle_connections = 200;
  }
  return c;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int Run(const Flags& flags) {
  const auto start = Clock::now();
  // Past this (counted from when the lab is ready) no new round starts; rows left short
  // are marked, not dropped. Lab up and down come on top: ~2 s on a quiet machine, far
  // more while other labs are coming up.
  const double budget_s = flags.quick ? 35 : 200;
  const MeshBenchConfig config = ConfigFor(flags);
  const MachineFacts machine = CollectMachineFacts();
  ResultTable table;

  MeshLabOptions lab_options;
  lab_options.weftctl = flags.weftctl;
  lab_options.topology = flags.topology;
  lab_options.name = absl::StrCat("mb", getpid() % 10000000);
  fprintf(stderr, "mesh_bench: lab up %s (%s)\n", lab_options.name.c_str(), flags.topology.c_str());
  auto lab = MeshLab::Up(lab_options);
  if (!lab.ok()) {
    fprintf(stderr, "mesh_bench: setup: %s\n", lab.status().ToString().c_str());
    return 2;
  }
  std::string stopped_why;
  std::vector<std::pair<std::string, double>> cfg;
  {
    MeshScenarios scenarios(**lab, config, table);
    if (absl::Status s = scenarios.Prepare(); !s.ok()) {
      fprintf(stderr, "mesh_bench: setup: %s\n", s.ToString().c_str());
      return 2;  // the lab goes down with `lab`
    }
    fprintf(stderr, "mesh_bench: lab ready after %.1f s; %d warm-up + %d rounds on %d cores\n",
            SecondsSince(start), config.warmup_rounds, config.repetitions, machine.cores);
    const Clock::time_point ready = Clock::now();
    // Memory first: bulk transfers leave buffers in ztunnel's heap that later connections
    // would reuse, hiding what a connection costs.
    for (int round = -config.warmup_rounds; round < config.repetitions; ++round) {
      if (StopRequested() || SecondsSince(ready) > budget_s) {
        stopped_why = StopRequested() ? "interrupted" : "time budget reached";
        break;
      }
      scenarios.RunMemoryRound(round >= 0);
    }
    fprintf(stderr, "mesh_bench: memory rounds done (%.1f s)\n", SecondsSince(start));
    for (int round = -config.warmup_rounds; round < config.repetitions && stopped_why.empty();
         ++round) {
      if (StopRequested()) {
        stopped_why = "interrupted";
        break;
      }
      if (SecondsSince(ready) > budget_s) {
        stopped_why = "time budget reached";
        break;
      }
      const bool record = round >= 0;
      scenarios.RunRound(round + config.warmup_rounds, record);
      fprintf(stderr, "mesh_bench: %s %d done (%.1f s)\n", record ? "round" : "warm-up",
              record ? round + 1 : round + config.warmup_rounds + 1, SecondsSince(start));
    }
    if (StopRequested()) stopped_why = "interrupted";
    if (!StopRequested()) scenarios.RecordIdleAfterTraffic();
    cfg = {
        {"quick", flags.quick ? 1 : 0},
        {"warmup_rounds", config.warmup_rounds},
        {"repetitions", config.repetitions},
        {"bulk_target_seconds", config.bulk_target_seconds},
        {"bulk_bytes_direct", static_cast<double>(scenarios.bulk_bytes(false))},
        {"bulk_bytes_mesh", static_cast<double>(scenarios.bulk_bytes(true))},
        {"rr_size_bytes", config.rr_size},
        {"rr_warmup_round_trips", config.rr_warmup},
        {"rr_round_trips", config.rr_round_trips},
        {"idle_connections", config.idle_connections},
    };
    scenarios.MarkShortRows(stopped_why.empty() ? "repetitions failed" : stopped_why);
  }              // pod processes end here
  lab->reset();  // `lab down`: nothing of the lab is left when we report

  return ReportRun("mesh_bench", flags.quick, machine, table, cfg, SecondsSince(start),
                   flags.out);
}

}  // namespace
}  // namespace weft::bench

int main(int argc, char** argv) {
  weft::bench::Flags flags;
  if (int status = weft::bench::ParseFlags(argc, argv, &flags); status >= 0) return status;
  if (geteuid() != 0) {
    fprintf(stderr, "mesh_bench: needs root (lab namespaces, cgroups, BPF)\n");
    return 2;
  }
  weft::bench::InstallStopHandlers();
  return weft::bench::Run(flags);
}
