#include "bench/suite/suite_runner.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bench/stop_signal.h"
#include "bench/suite/process_usage.h"

namespace weft::bench {
namespace {

struct ProcessCost {
  CpuSeconds cpu;          // during the measured window (plus the run's last in-flight drain)
  double peak_rss_bytes = 0;
};

struct Measured {
  LoadgenSummary load;
  std::map<std::string, ProcessCost> cost;  // process name → cost
};

std::string Seconds(double s) { return absl::StrCat(s); }

std::vector<std::string> LoadArgs(const ScenarioSpec& scenario, const ModePath& path,
                                  bool open_loop, double warmup_s, double duration_s) {
  std::vector<std::string> args = {"--netns", path.client.netns_path};
  if (!path.client.cgroup_dir.empty()) {
    args.push_back("--cgroup");
    args.push_back(path.client.cgroup_dir);
  }
  const bool bulk = scenario.kind == ScenarioKind::kBulk;
  args.insert(args.end(), {"--target", bulk ? path.sink_target : path.echo_target, "--scenario",
                           KindName(scenario.kind), "--connections",
                           absl::StrCat(scenario.connections), "--duration", Seconds(duration_s),
                           "--warmup", Seconds(warmup_s), "--timeout-ms", "1000"});
  if (!bulk) args.insert(args.end(), {"--size", absl::StrCat(scenario.size)});
  if (bulk) args.insert(args.end(), {"--size", "65536", "--direction", "upload"});
  if (scenario.kind == ScenarioKind::kRequestResponse) {
    if (open_loop) {
      args.insert(args.end(), {"--rate", absl::StrCat(scenario.open_loop_rate)});
    } else {
      args.push_back("--closed");
    }
  }
  return args;
}

// One weft-loadgen client run. The mesh processes' CPU is read once the client's warm-up
// is over and again after it exits; their peak RSS is reset before and read after.
absl::StatusOr<Measured> MeasureRunOnce(const std::string& loadgen, const ModePath& path,
                                    const std::vector<std::string>& args, double warmup_s,
                                    double duration_s) {
  for (const AccountedProcess& p : path.processes) (void)ResetPeakRss(p.pid);
  std::map<std::string, CpuSeconds> before;
  absl::Status before_status;
  std::thread sampler;
  absl::StatusOr<LoadgenSummary> load = RunLoadgenClient(
      loadgen, args, absl::Seconds(warmup_s + duration_s + 5), [&](pid_t) {
        sampler = std::thread([&] {
          absl::SleepFor(absl::Seconds(warmup_s));
          for (const AccountedProcess& p : path.processes) {
            absl::StatusOr<CpuSeconds> cpu = ReadCpuSeconds(p.pid);
            if (!cpu.ok()) {
              before_status.Update(cpu.status());
              continue;
            }
            before[p.name] = *cpu;
          }
        });
      });
  if (sampler.joinable()) sampler.join();
  if (!load.ok()) return load.status();
  if (!before_status.ok()) return before_status;
  Measured measured{*std::move(load), {}};
  for (const AccountedProcess& p : path.processes) {
    absl::StatusOr<CpuSeconds> after = ReadCpuSeconds(p.pid);
    if (!after.ok()) return after.status();
    absl::StatusOr<double> peak = ReadPeakRssBytes(p.pid);
    if (!peak.ok()) return peak.status();
    measured.cost[p.name] = {{after->user - before[p.name].user,
                              after->system - before[p.name].system},
                             *peak};
  }
  return measured;
}

// A run in which nothing completed (no request, no cycle, no byte) has no latency to
// report and its rate or throughput would read as a measured zero: it is a stall,
// reported as the run's failure.
absl::StatusOr<Measured> MeasureRun(const std::string& loadgen, const ModePath& path,
                                    const std::vector<std::string>& args, double warmup_s,
                                    double duration_s) {
  absl::StatusOr<Measured> m = MeasureRunOnce(loadgen, path, args, warmup_s, duration_s);
  const bool progressed = m.ok() && (m->load.count > 0 || m->load.throughput_mib_s > 0);
  if (m.ok() && !progressed) {
    std::vector<std::string> kinds;
    for (const auto& [kind, n] : m->load.errors) kinds.push_back(absl::StrCat(kind, " ", n));
    return absl::UnavailableError(absl::StrCat(
        "nothing completed in the measured window (stalled); errors: ",
        kinds.empty() ? "none" : absl::StrJoin(kinds, ", ")));
  }
  return m;
}

std::string ErrorSummary(int round, const LoadgenSummary& load) {
  std::vector<std::string> kinds;
  for (const auto& [kind, n] : load.errors) kinds.push_back(absl::StrCat(kind, " ", n));
  return absl::StrCat("round ", round, ": ", load.error_total, " errors (",
                      absl::StrJoin(kinds, ", "), ")");
}

// CPU per unit of work for each mesh process and their sum ("all"), plus peak RSS.
// value = CPU seconds × scale / units: scale 1e6 with units = requests gives ms per
// 1,000 requests; scale 1 with units = GiB gives seconds per GiB.
void RecordCost(SuiteResults* results, const std::string& scenario, const ModePath& path,
                int round, const Measured& m, double units, double scale,
                const std::string& metric, const std::string& unit) {
  if (path.processes.empty() || units <= 0) return;
  double total = 0;
  for (const auto& [process, cost] : m.cost) {
    total += cost.cpu.user + cost.cpu.system;
    results->Row(scenario, path.mode.name, metric + "_user", unit, process).by_round[round] =
        cost.cpu.user * scale / units;
    results->Row(scenario, path.mode.name, metric + "_sys", unit, process).by_round[round] =
        cost.cpu.system * scale / units;
    results->Row(scenario, path.mode.name, "peak_rss", "MB", process).by_round[round] =
        cost.peak_rss_bytes / 1e6;
  }
  results->Row(scenario, path.mode.name, metric, unit, "all").by_round[round] =
      total * scale / units;
}

void RecordLatency(SuiteResults* results, const std::string& scenario, const std::string& mode,
                   int round, const LoadgenSummary& load, bool all_percentiles) {
  results->Row(scenario, mode, "latency_p50", "us").by_round[round] = load.p50_us;
  if (all_percentiles) results->Row(scenario, mode, "latency_p90", "us").by_round[round] = load.p90_us;
  results->Row(scenario, mode, "latency_p99", "us").by_round[round] = load.p99_us;
  if (all_percentiles) {
    results->Row(scenario, mode, "latency_p999", "us").by_round[round] = load.p999_us;
  }
}

// The rows a scenario produces, for marking a run that produced none.
std::vector<std::pair<std::string, std::string>> MetricsOf(const ScenarioSpec& s) {
  switch (s.kind) {
    case ScenarioKind::kRequestResponse:
      return {{"latency_p50", "us"}, {"latency_p90", "us"}, {"latency_p99", "us"},
              {"latency_p999", "us"}, {"rate", "req/s"}};
    case ScenarioKind::kConnectionRate:
      return {{"rate", "conn/s"}, {"latency_p50", "us"}, {"latency_p99", "us"}};
    case ScenarioKind::kBulk:
      return {{"throughput", "MiB/s"}};
  }
  return {};
}

absl::Status RunOne(const SuiteOptions& options, const ScenarioSpec& scenario,
                    const ModePath& path, int round, bool record, SuiteResults* results) {
  // A warm-up round only has to bring every path up (pooled connections, caches,
  // allocator): --quick's durations do that in a fifth of the time.
  const RunDurations d = record ? options.durations : DurationsFor(/*quick=*/true);
  const std::string& mode = path.mode.name;
  auto check = [&](const LoadgenSummary& load) {
    if (record && load.error_total > 0) {
      for (const auto& [metric, unit] : MetricsOf(scenario)) {
        results->Row(scenario.name, mode, metric, unit).errors.push_back(ErrorSummary(round, load));
      }
    }
  };
  if (scenario.kind == ScenarioKind::kRequestResponse) {
    absl::StatusOr<Measured> open = MeasureRun(
        options.loadgen, path, LoadArgs(scenario, path, true, d.warmup_s, d.open_loop_s),
        d.warmup_s, d.open_loop_s);
    if (!open.ok()) return open.status();
    absl::StatusOr<Measured> closed = MeasureRun(
        options.loadgen, path, LoadArgs(scenario, path, false, d.warmup_s, d.closed_s),
        d.warmup_s, d.closed_s);
    if (!closed.ok()) return closed.status();
    if (!record) return absl::OkStatus();
    RecordLatency(results, scenario.name, mode, round, open->load, true);
    results->Row(scenario.name, mode, "rate", "req/s").by_round[round] = closed->load.rate;
    check(open->load);
    check(closed->load);
    RecordCost(results, scenario.name, path, round, *closed,
               static_cast<double>(closed->load.count), 1e6, "cpu_ms_per_1k_req", "ms");
    return absl::OkStatus();
  }
  absl::StatusOr<Measured> run = MeasureRun(
      options.loadgen, path, LoadArgs(scenario, path, false, d.warmup_s, d.closed_s), d.warmup_s,
      d.closed_s);
  if (!run.ok()) return run.status();
  if (!record) return absl::OkStatus();
  check(run->load);
  if (scenario.kind == ScenarioKind::kConnectionRate) {
    results->Row(scenario.name, mode, "rate", "conn/s").by_round[round] = run->load.rate;
    RecordLatency(results, scenario.name, mode, round, run->load, false);
    RecordCost(results, scenario.name, path, round, *run, static_cast<double>(run->load.count),
               1e6, "cpu_ms_per_1k_conn", "ms");
  } else {
    results->Row(scenario.name, mode, "throughput", "MiB/s").by_round[round] =
        run->load.throughput_mib_s;
    RecordCost(results, scenario.name, path, round, *run,
               run->load.bytes / (1024.0 * 1024 * 1024), 1, "cpu_s_per_gib", "s");
  }
  return absl::OkStatus();
}

// Waits (at most `limit`) until the proxies together use under 5% of a CPU over 100 ms.
// Returns how long it waited; a proxy still busy at the limit is reported, not fatal.
absl::Duration SettleQuiet(const std::vector<AccountedProcess>& proxies, absl::Duration limit) {
  const absl::Time start = absl::Now();
  const absl::Duration window = absl::Milliseconds(100);
  auto total = [&] {
    double seconds = 0;
    for (const AccountedProcess& p : proxies) {
      if (absl::StatusOr<CpuSeconds> cpu = ReadCpuSeconds(p.pid); cpu.ok()) {
        seconds += cpu->user + cpu->system;
      }
    }
    return seconds;
  };
  double before = total();
  while (absl::Now() - start < limit) {
    absl::SleepFor(window);
    const double after = total();
    // /proc times tick at 10 ms: 5% of 100 ms is under one tick, so "no tick" is quiet.
    if (after - before < 0.05 * absl::ToDoubleSeconds(window) + 1e-9) break;
    before = after;
  }
  return absl::Now() - start;
}

}  // namespace

void RunSuiteRounds(BenchWorld& world, const SuiteOptions& options, SuiteResults* results) {
  const RunDurations& d = options.durations;
  const int rounds = d.warmup_rounds + d.repetitions;
  for (int round = 0; round < rounds && !StopRequested(); ++round) {
    const bool record = round >= d.warmup_rounds;
    const int measured_round = round - d.warmup_rounds;
    const absl::Time start = absl::Now();
    for (const ScenarioSpec& scenario : options.scenarios) {
      std::vector<ModeSpec> order = options.modes;
      if (round % 2 == 1) std::reverse(order.begin(), order.end());
      for (const ModeSpec& mode : order) {
        if (StopRequested()) break;
        absl::Status status;
        SettleQuiet(world.Proxies(), absl::Seconds(3));
        absl::StatusOr<ModePath> path = world.Enter(mode);
        status = path.ok() ? RunOne(options, scenario, *path, measured_round, record, results)
                           : path.status();
        if (!status.ok()) {
          fprintf(stderr, "weftctl bench: %s %s round %d: %s\n", scenario.name.c_str(),
                  mode.name.c_str(), round, status.ToString().c_str());
          if (record) {
            results->MarkFailed(scenario.name, mode.name, MetricsOf(scenario),
                                absl::StrCat("round ", measured_round, ": ", status.message()));
          }
        }
      }
    }
    fprintf(stderr, "weftctl bench: %s %d done (%.1f s)\n", record ? "round" : "warm-up round",
            record ? measured_round : round, absl::ToDoubleSeconds(absl::Now() - start));
  }
  results->MarkShortRows(d.repetitions);
}

}  // namespace weft::bench
