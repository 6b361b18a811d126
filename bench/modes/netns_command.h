// Running a short external command (openssl, iptables) to completion, optionally inside a
// network namespace given by path, and keeping what it printed: the bench modes drive
// stock tools, and a failure must name the command and show its stderr.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace weft::bench::modes {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when it was killed
  std::string output;  // stdout and stderr, interleaved as written
};

// Forks and execs argv[0] (searched in PATH) with stdin from /dev/null. When `netns_path`
// is not empty the child enters that netns first (setns, so any path works: /run/netns/X,
// /proc/PID/ns/net). Killed after `timeout_ms`. An error only when the command could not
// be run at all (fork, netns, exec); a non-zero exit is a result.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& netns_path = "",
                                         int timeout_ms = 10'000);

// RunCommand, and an error naming the command and quoting its output unless it exited 0.
absl::StatusOr<std::string> RunCommandOk(const std::vector<std::string>& argv,
                                         const std::string& netns_path = "",
                                         int timeout_ms = 10'000);

// "a b c": argv for messages.
std::string CommandLine(const std::vector<std::string>& argv);

}  // namespace weft::bench::modes
