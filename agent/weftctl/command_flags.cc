#include "agent/weftctl/command_flags.h"

#include <iostream>

namespace weft::weftctl {

int CommandFailure(const std::string& command, const std::string& why) {
  std::cerr << "weftctl " << command << ": " << why << "\n";
  return 1;
}

std::optional<int> ParseCommandFlags(cli::FlagSet& flags, const std::vector<std::string>& args,
                                     const std::string& command, const std::string& output) {
  auto positional = flags.Parse(args);
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  if (!positional.ok()) return CommandFailure(command, std::string(positional.status().message()));
  if (!positional->empty()) {
    return CommandFailure(command, "unexpected argument \"" + positional->front() + "\"");
  }
  if (output != "table" && output != "json") {
    return CommandFailure(command, "--output \"" + output + "\": expected table or json");
  }
  return std::nullopt;
}

}  // namespace weft::weftctl
