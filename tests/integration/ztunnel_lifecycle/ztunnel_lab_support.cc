#include "tests/integration/ztunnel_lifecycle/ztunnel_lab_support.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "agent/lab/agent_launcher.h"
#include "common/admin/admin_client.h"
#include "tests/integration/lab/lab_test_support.h"

namespace weft::agent::testing {

ChurnResult ParseChurn(const std::string& reply) {
  ChurnResult r;
  r.raw = reply;
  std::istringstream in(reply);
  std::string word;
  int not_captured = 0;
  in >> word >> r.attempts >> r.failed >> not_captured >> r.first_problem >> r.longest_failing_ms;
  if (word != "churn") r.attempts = -1;
  return r;
}

int32_t ZtunnelPid(const std::string& lab, const std::string& node) {
  const weft::lab::state::v1::LabState state = weft::lab::testing::ReadLabState(lab);
  for (const auto& n : state.nodes()) {
    if (n.name() == node) return n.ztunnel().pid();
  }
  return 0;
}

int CountInZtunnelLog(const std::string& lab, const std::string& node, const std::string& needle) {
  std::ifstream log("/run/weft/lab/" + lab + "/ztunnel-" + node + ".log");
  int count = 0;
  std::string line;
  while (std::getline(log, line)) {
    if (line.find(needle) != std::string::npos) ++count;
  }
  return count;
}

std::string ProblemLines(const std::string& path, size_t max) {
  std::ifstream log(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(log, line)) {
    const bool access = line.find("\"outcome\"") != std::string::npos;
    if ((access && line.find("\"outcome\":\"closed\"") == std::string::npos) ||
        line.find(" warn ") != std::string::npos || line.find(" error ") != std::string::npos) {
      lines.push_back(line);
    }
  }
  std::string out;
  for (size_t i = lines.size() > max ? lines.size() - max : 0; i < lines.size(); ++i) {
    out += lines[i] + "\n";
  }
  return out;
}

pid_t StartSuccessorZtunnel(const weft::lab::state::v1::LabState& lab,
                            const weft::lab::state::v1::NodeState& node,
                            const std::string& admin_addr, const std::string& log_path) {
  std::vector<std::string> argv =
      weft::lab::ZtunnelArgv(std::string(WEFT_BINARY_DIR) + "/agent/weft-ztunnel", lab, node);
  argv.push_back("--admin-addr=" + admin_addr);  // the last --admin-addr wins
  absl::StatusOr<pid_t> pid =
      weft::lab::StartNodeProcess(argv, node, node.ztunnel().cgroup(), log_path);
  return pid.ok() ? *pid : -1;
}

int NodeAdminStatus(const weft::lab::state::v1::NodeState& node, const std::string& admin_addr,
                    const std::string& path) {
  absl::StatusOr<admin::AdminReply> reply =
      admin::AdminGet(admin_addr, path, {.netns_path = "/run/netns/" + node.netns()});
  return reply.ok() ? reply->status : -1;
}

}  // namespace weft::agent::testing
