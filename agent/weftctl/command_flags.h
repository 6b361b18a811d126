// The flag handling every option-only weftctl command shares: `--help` prints the usage
// (exit 0); a bad flag, a stray positional argument or an --output other than table or
// json is a one-line error naming the command (exit 1).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/cli/flag_set.h"

namespace weft::weftctl {

// Prints "weftctl COMMAND: WHY" to stderr; returns 1, the exit status of a failure.
int CommandFailure(const std::string& command, const std::string& why);

// Parses `args` into `flags`. Returns the exit status to leave with now (help or an
// error), or nullopt when the command should run. `output` is the --output value the
// flags were bound to.
std::optional<int> ParseCommandFlags(cli::FlagSet& flags, const std::vector<std::string>& args,
                                     const std::string& command, const std::string& output);

}  // namespace weft::weftctl
