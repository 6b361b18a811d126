#include "agent/lab/lab_command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/lab/lab_subcommands.h"
#include "common/log/logger.h"

namespace weft::lab {
namespace {

constexpr char kHelp[] = R"(usage: weftctl lab SUBCOMMAND [flags]

  up TOPOLOGY.yaml [--detach] [--ready-timeout SECONDS]
        build the lab and supervise it until SIGINT/SIGTERM (default ready timeout 60)
  down                        remove everything the lab made (also after a crash)
  status [--output table|json]  nodes, agents, /healthz, pods and sandboxes (default table)
  exec POD -- CMD [ARGS...]   run CMD in the pod's netns and cgroup (POD: ns/name or name)
  label namespace NS|pod NS/NAME key=value|key- ...   change labels in cluster.json
  apply FILE                  merge a ClusterConfig document into cluster.json

Every subcommand takes --name LAB (default $WEFT_LAB, else "weft"; [a-z0-9]{1,10}).
Environment: WEFT_AGENT_BIN overrides the weft-agent binary (default: next to weftctl).
)";

}  // namespace

int ReportFailure(absl::string_view subcommand, const absl::Status& status) {
  std::string message(status.message());
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  std::fprintf(stderr, "weftctl lab %.*s: %s\n", static_cast<int>(subcommand.size()),
               subcommand.data(), message.c_str());
  return 1;
}

int RunLabCommand(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kHelp, stderr);
    return 1;
  }
  const std::string subcommand = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (subcommand == "help" || subcommand == "--help" || subcommand == "-h") {
    std::fputs(kHelp, stdout);
    return 0;
  }
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    }
  }
  weft::log::Configure(weft::log::Level::kInfo, weft::log::Format::kText, "lab");
  if (subcommand == "up") return RunLabUp(args);
  if (subcommand == "down") return RunLabDown(args);
  if (subcommand == "status") return RunLabStatus(args);
  if (subcommand == "exec") return RunLabExec(args);
  if (subcommand == "label") return RunLabLabel(args);
  if (subcommand == "apply") return RunLabApply(args);
  std::fprintf(stderr, "weftctl lab: unknown subcommand \"%s\" (try 'weftctl lab help')\n",
               subcommand.c_str());
  return 1;
}

absl::StatusOr<LabArgs> ParseLabArgs(const std::vector<std::string>& args,
                                     const std::set<std::string>& value_flags,
                                     const std::set<std::string>& bool_flags) {
  LabArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      parsed.has_command = true;
      parsed.command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      parsed.positional.push_back(arg);
      continue;
    }
    std::string name = arg;
    std::string value;
    bool inline_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    if (bool_flags.contains(name)) {
      if (inline_value) return absl::InvalidArgumentError(absl::StrCat(name, " takes no value"));
      parsed.flags[name] = "true";
    } else if (value_flags.contains(name)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
        }
        value = args[++i];
      }
      parsed.flags[name] = value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
    }
  }
  return parsed;
}

}  // namespace weft::lab
