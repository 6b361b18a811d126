// What the ztunnel lifecycle tests share: reading churn replies, a node's ztunnel pid and
// log, and starting a second ztunnel on a node the way a rolling update would.
#pragma once

#include <sys/types.h>

#include <string>

#include "agent/lab/lab_state.pb.h"

namespace weft::agent::testing {

struct ChurnResult {
  int attempts = -1;
  int failed = -1;
  std::string first_problem;
  int longest_failing_ms = -1;
  std::string raw;
};
ChurnResult ParseChurn(const std::string& reply);

int32_t ZtunnelPid(const std::string& lab, const std::string& node);
// Occurrences of `needle` in the node's ztunnel log.
int CountInZtunnelLog(const std::string& lab, const std::string& node, const std::string& needle);
// The last `max` lines of a ztunnel log that are warnings, errors or failed connections.
std::string ProblemLines(const std::string& path, size_t max);

// Starts another weft-ztunnel for `node` (same netns, cgroup, sockets) with its admin server
// on `admin_addr`; its output goes to `log_path`. The pid, or -1.
pid_t StartSuccessorZtunnel(const weft::lab::state::v1::LabState& lab,
                            const weft::lab::state::v1::NodeState& node,
                            const std::string& admin_addr, const std::string& log_path);

// GET `path` from `admin_addr` inside the node's netns; the HTTP status, or -1.
int NodeAdminStatus(const weft::lab::state::v1::NodeState& node, const std::string& admin_addr,
                    const std::string& path);

}  // namespace weft::agent::testing
