// weft-agent's command line.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/log/logger.h"

namespace weft::agent {

struct AgentOptions {
  std::string node;
  std::string config_path;
  std::string cgroup_root;
  std::string bpffs;
  std::string instance;
  std::string admin_addr;
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kText;
  bool uninstall = false;
  bool help = false;
  std::string usage;  // --help text
};

// Parses and checks the flags; errors name the flag.
absl::StatusOr<AgentOptions> ParseAgentOptions(const std::vector<std::string>& args);

}  // namespace weft::agent
