#include "bench/suite/bench_command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bench/hoptrace/bench_latency_command.h"
#include "bench/machine_facts.h"
#include "bench/stop_signal.h"
#include "bench/suite/bench_world.h"
#include "bench/suite/suite_plots.h"
#include "bench/suite/suite_results.h"
#include "bench/suite/suite_runner.h"
#include "common/cli/flag_set.h"
#include "common/log/logger.h"

namespace weft::bench {
namespace {

struct BenchFlags {
  bool quick = false;
  std::vector<std::string> scenarios;
  std::vector<std::string> modes;
  std::string out;
  std::string lab;
  int64_t repetitions = 0;
  bool hops = true;
  std::string loadgen;
  std::string topology;
};

std::string SelfPath() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "weftctl" : self.string();
}

std::string Default(const char* env, const std::string& built_in) {
  const char* value = std::getenv(env);
  return value != nullptr && *value != '\0' ? value : built_in;
}

int Finish(SuiteRun& run, SuiteResults& results, const std::string& out_dir, absl::Time start) {
  run.wall_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<std::string> plots;
  if (absl::StatusOr<std::vector<std::string>> drawn = DrawPlots(results, run, out_dir);
      drawn.ok()) {
    plots = *drawn;
  } else {
    run.setup_errors.push_back(std::string(drawn.status().message()));
  }
  std::cout << results.FormatText();
  absl::Status written = WriteTextFile(out_dir + "/results.json", results.FormatJson(run));
  written.Update(WriteTextFile(out_dir + "/results.md", results.FormatMarkdown(run, plots)));
  if (!written.ok()) {
    std::cerr << "weftctl bench: " << written.message() << "\n";
    return 2;
  }
  std::cerr << "weftctl bench: wrote " << out_dir << "/results.json, results.md"
            << (plots.empty() ? "" : ", " + absl::StrJoin(plots, ", ")) << " ("
            << static_cast<int>(run.wall_seconds) << " s)\n";
  if (run.interrupted) return 130;
  if (!run.setup_errors.empty()) return 2;
  return results.AnyFailed() ? 1 : 0;
}

}  // namespace

int RunBenchCommand(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "latency") {
    return weft::hoptrace::RunBenchLatency(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  BenchFlags f;
  weft::cli::FlagSet flags(
      "weftctl bench [--quick] [--scenario S]... [--mode M]... --out DIR\n"
      "       weftctl bench latency --lab NAME --from NS/POD --to NS/POD",
      "Measures what the mesh adds on the lab's two-node path, every scenario in every mode\n"
      "in the same invocation, and writes DIR/results.json, DIR/results.md and PNG plots.\n"
      "Needs root. Brings up its own lab from deploy/lab/bench.yaml unless --lab names a\n"
      "running one. Exit status: 0 all measured, 1 some row failed, 2 setup error, 130\n"
      "interrupted.");
  flags.Bool("quick", &f.quick, false, "one short round (a smoke run, under a minute)");
  std::string scenario_help = "scenario to run (repeatable or comma-separated; default all):";
  for (const ScenarioSpec& s : AllScenarios()) absl::StrAppend(&scenario_help, " ", s.name);
  flags.StringList("scenario", &f.scenarios, scenario_help);
  std::string mode_help = "mode to run (repeatable or comma-separated; default all):";
  for (const ModeSpec& m : AllModes()) absl::StrAppend(&mode_help, " ", m.name);
  flags.StringList("mode", &f.modes, mode_help);
  flags.String("out", &f.out, "", "directory for results.json, results.md and plots (required)");
  flags.String("lab", &f.lab, "",
               "use this running lab (up from deploy/lab/bench.yaml) instead of a new one");
  flags.Int("repetitions", &f.repetitions, 0, "measured rounds (default 5; --quick 1)");
  flags.Bool("hops", &f.hops, true, "trace the per-hop latency of rr_1KiB_c1 in each mode");
  flags.String("loadgen", &f.loadgen, Default("WEFT_LOADGEN_BIN", WEFT_BENCH_LOADGEN),
               "the weft-loadgen binary");
  flags.String("topology", &f.topology, WEFT_BENCH_TOPOLOGY, "lab topology for a new lab");
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) {
    std::cerr << "weftctl bench: " << positional.status().message() << "\n" << flags.Usage();
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  if (!positional->empty()) {
    std::cerr << "weftctl bench: unexpected argument \"" << (*positional)[0] << "\"\n";
    return 2;
  }
  if (f.out.empty()) {
    std::cerr << "weftctl bench: --out DIR is required\n";
    return 2;
  }
  if (f.repetitions < 0 || f.repetitions > 100) {
    std::cerr << "weftctl bench: --repetitions: 1 to 100\n";
    return 2;
  }
  absl::StatusOr<std::vector<ScenarioSpec>> scenarios = SelectScenarios(f.scenarios);
  absl::StatusOr<std::vector<ModeSpec>> modes = SelectModes(f.modes);
  for (const absl::Status& s : {scenarios.status(), modes.status()}) {
    if (!s.ok()) {
      std::cerr << "weftctl bench: " << s.message() << "\n";
      return 2;
    }
  }
  if (::geteuid() != 0) {
    std::cerr << "weftctl bench: needs root (lab namespaces, cgroups, BPF)\n";
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(f.out + "/work", ec);
  if (ec) {
    std::cerr << "weftctl bench: --out " << f.out << ": " << ec.message() << "\n";
    return 2;
  }
  const absl::Time start = absl::Now();
  InstallStopHandlers();
  // The BPF loaders log each attach at info; the bench prints its own progress.
  weft::log::Configure(weft::log::Level::kWarn, weft::log::Format::kText, "weftctl-bench");

  SuiteRun run;
  run.machine = CollectMachineFacts();
  run.quick = f.quick;
  run.durations = DurationsFor(f.quick);
  if (f.repetitions > 0) run.durations.repetitions = static_cast<int>(f.repetitions);
  run.scenarios = *scenarios;
  run.modes = *modes;
  run.command = absl::StrCat("weftctl bench ", absl::StrJoin(args, " "));
  run.lab = f.lab.empty() ? absl::StrCat("wb", ::getpid() % 100000) : f.lab;
  SuiteResults results;

  std::cerr << "weftctl bench: " << (f.lab.empty() ? "lab up " : "using lab ") << run.lab
            << "; " << run.scenarios.size() << " scenarios x " << run.modes.size() << " modes, "
            << run.durations.warmup_rounds << " warm-up + " << run.durations.repetitions
            << " rounds\n";
  absl::StatusOr<std::unique_ptr<BenchWorld>> world = BenchWorld::Create(
      {.weftctl = SelfPath(),
       .loadgen = f.loadgen,
       .topology = f.topology,
       .lab_name = run.lab,
       .use_running_lab = !f.lab.empty(),
       .work_dir = f.out + "/work",
       .modes = run.modes});
  if (!world.ok()) {
    run.setup_errors.push_back(std::string(world.status().message()));
    std::cerr << "weftctl bench: setup: " << world.status().message() << "\n";
    return Finish(run, results, f.out, start);
  }
  run.mode_details = (*world)->ModeDetails();
  SuiteOptions options{.loadgen = f.loadgen,
                       .durations = run.durations,
                       .scenarios = run.scenarios,
                       .modes = run.modes,
                       .trace_hops = f.hops};
  RunSuiteRounds(**world, options, &results);
  if (f.hops && !StopRequested()) RunHopTraces(**world, options, &results);
  results.AddRatios({{"mesh", "direct"},
                     {"mesh", "iptables"},
                     {"mesh", "stunnel"},
                     {"mesh", "mesh-nosockmap"},
                     {"mesh-nosockmap", "splice-relay"}},
                    {"latency_p50", "latency_p99", "rate", "throughput"});
  run.interrupted = StopRequested();
  world->reset();  // tear down before writing: `lab down` can take seconds
  return Finish(run, results, f.out, start);
}

}  // namespace weft::bench
