// The `weftctl lab` subcommands. Each takes its arguments (after the subcommand name)
// and returns the process exit status; failures print one line on stderr.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weft::lab {

int RunLabUp(const std::vector<std::string>& args);
int RunLabDown(const std::vector<std::string>& args);
int RunLabStatus(const std::vector<std::string>& args);
int RunLabExec(const std::vector<std::string>& args);
int RunLabLabel(const std::vector<std::string>& args);
int RunLabApply(const std::vector<std::string>& args);

// Prints "weftctl lab <subcommand>: <message>" (newlines folded) and returns 1.
int ReportFailure(absl::string_view subcommand, const absl::Status& status);

struct LabArgs {
  std::map<std::string, std::string> flags;  // "--name" -> "x"; booleans -> "true"
  std::vector<std::string> positional;
  bool has_command = false;          // a "--" was given
  std::vector<std::string> command;  // what follows "--"

  std::string Flag(const std::string& name, const std::string& fallback = "") const {
    auto it = flags.find(name);
    return it == flags.end() ? fallback : it->second;
  }
  bool Has(const std::string& name) const { return flags.contains(name); }
};

// `value_flags` take a value, `bool_flags` do not; anything else starting with "--" is
// an error naming the flag.
absl::StatusOr<LabArgs> ParseLabArgs(const std::vector<std::string>& args,
                                     const std::set<std::string>& value_flags,
                                     const std::set<std::string>& bool_flags);

}  // namespace weft::lab
