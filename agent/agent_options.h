// weft-agent's command line.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
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
  std::string node_api_socket;  // gRPC node API for ztunnel
  std::string netns_socket;     // SOCK_SEQPACKET pod netns hand-off to ztunnel
  std::string ca_dir;           // local CA root: ca.key (0600) and ca.crt
  absl::Duration cert_max_ttl = absl::Hours(24);
  int64_t outbound_port = 15001;
  int64_t ztunnel_mark = 1337;
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kText;
  bool uninstall = false;
  bool loopback_short_circuit = false;
  bool help = false;
  std::string usage;  // --help text
};

// Parses and checks the flags; errors name the flag.
absl::StatusOr<AgentOptions> ParseAgentOptions(const std::vector<std::string>& args);

}  // namespace weft::agent
