// weftctl: the operator's command line. Each subcommand lives in its own file;
// this only dispatches.
#include <iostream>
#include <string>
#include <vector>

#include "agent/lab/lab_command.h"
#include "agent/weftctl/validate_command.h"
#include "agent/weftctl/workloads_command.h"
#include "common/cli/flag_set.h"

namespace {

constexpr char kUsage[] = R"(usage: weftctl COMMAND [flags] [args]

commands:
  validate FILE...      check config documents; print every error with its field path
  workloads             the workloads node agents have enrolled (--lab NAME: every lab node)
  lab up|down|status|exec|label|apply
                        run a local lab cluster of network namespaces on this machine

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
  if (command == "lab") return weft::lab::RunLabCommand(argc - 1, argv + 1);
  std::cerr << "weftctl: unknown command \"" << command << "\" (see weftctl --help)\n";
  return 1;
}
