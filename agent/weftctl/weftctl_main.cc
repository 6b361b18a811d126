// weftctl: the operator's command line. Each subcommand lives in its own file;
// this only dispatches.
#include <iostream>
#include <string>
#include <vector>

#include "agent/lab/lab_command.h"
#include "agent/weftctl/bpf_maps_command.h"
#include "agent/weftctl/bpf_stats_command.h"
#include "agent/weftctl/validate_command.h"
#include "agent/weftctl/workloads_command.h"
#include "bench/suite/bench_command.h"
#include "common/cli/flag_set.h"

namespace {

constexpr char kUsage[] = R"(usage: weftctl COMMAND [flags] [args]

commands:
  validate FILE...      check config documents; print every error with its field path
  workloads             the workloads node agents have enrolled (--lab NAME: every lab node)
  bpf maps|stats        the node agent's pinned BPF maps, decoded; kernel counters and latency
  lab up|down|status|exec|label|apply
                        run a local lab cluster of network namespaces on this machine
  bench [latency]       measure what the mesh adds, mode by mode (bench/suite/README.md);
                        `bench latency`: live per-hop latency between two lab pods

Each command takes --help.
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 1;
  }
  std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "validate") return weft::weftctl::RunValidate(weft::cli::Args(argc, argv, 2));
  if (command == "workloads") {
    return weft::weftctl::RunWorkloads(weft::cli::Args(argc, argv, 2));
  }
  if (command == "bpf") {
    std::string sub = argc > 2 ? argv[2] : "";
    if (sub == "maps") return weft::weftctl::RunBpfMaps(weft::cli::Args(argc, argv, 3));
    if (sub == "stats") return weft::weftctl::RunBpfStats(weft::cli::Args(argc, argv, 3));
    std::cerr << "weftctl bpf: expected \"maps\" or \"stats\" (see weftctl bpf maps --help)\n";
    return 1;
  }
  if (command == "bench") return weft::bench::RunBenchCommand(weft::cli::Args(argc, argv, 2));
  if (command == "lab") return weft::lab::RunLabCommand(argc - 1, argv + 1);
  std::cerr << "weftctl: unknown command \"" << command << "\" (see weftctl --help)\n";
  return 1;
}
