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
  std::string getsockopt_cgroup;
  int64_t outbound_port = 15001;
  int64_t ztunnel_mark = 1337;
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kText;
  bool uninstall = false;
  bool loopback_short_circuit = true;
  bool help = false;
  std::string usage;  // --help text
};

// Parses and checks the flags; errors name the flag.
absl::StatusOr<AgentOptions> ParseAgentOptions(const std::vector<std::string>& args);

}  // namespace weft::agent
