#include "tests/integration/ztunnel/ztunnel_lab_fixture.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/status/statusor.h"
#include "common/admin/admin_client.h"

namespace weft::ztunnel::testing {

using weft::lab::testing::ReadLabState;
using weft::lab::testing::WaitUntil;

void ZtunnelLabTest::StartMeshLab(const std::string& tag) {
  ASSERT_NO_FATAL_FAILURE(StartTwoNodeLab(tag, /*with_ztunnel=*/true));
  ASSERT_TRUE(state_.ztunnel()) << "lab up did not start ztunnel";
  for (const auto& node : state_.nodes()) {
    ASSERT_FALSE(node.ztunnel().admin_addr().empty()) << node.name() << " has no ztunnel";
  }
}

std::string ZtunnelLabTest::ZtunnelGet(const std::string& node, const std::string& path) {
  weft::admin::AdminGetOptions options;
  options.netns_path = "/run/netns/" + Node(node).netns();
  absl::StatusOr<weft::admin::AdminReply> reply =
      weft::admin::AdminGet(Node(node).ztunnel().admin_addr(), path, options);
  if (!reply.ok() || reply->status != 200) return "";
  return reply->body;
}

std::vector<std::string> ZtunnelLabTest::AccessLines(const std::string& node) {
  std::ifstream log(Node(node).ztunnel().log_path());
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(log, line)) {
    // Diagnostics share the file; access lines are the JSON objects with a direction.
    if (line.starts_with("{") && line.find("\"direction\":") != std::string::npos) {
      lines.push_back(line);
    }
  }
  return lines;
}

std::string ZtunnelLabTest::DiagnosticTail(const std::string& node, size_t count) {
  std::ifstream log(Node(node).ztunnel().log_path());
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(log, line)) {
    if (line.find("\"direction\":") == std::string::npos) lines.push_back(line);
  }
  std::string tail;
  for (size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i) {
    tail += lines[i] + "\n";
  }
  return tail;
}

int64_t ZtunnelLabTest::ZtunnelRssKib(const std::string& node) {
  int32_t pid = 0;
  const weft::lab::state::v1::LabState now = ReadLabState(lab_);  // the ztunnel may restart
  for (const auto& n : now.nodes()) {
    if (n.name() == node) pid = n.ztunnel().pid();
  }
  if (pid <= 0) return -1;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::strtoll(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

void ZtunnelLabTest::WaitForMesh(const std::vector<std::string>& pods) {
  for (const std::string& pod : pods) {
    const std::string uid = Pod(pod).uid();
    const std::string node = Pod(pod).node();
    std::string last;
    bool ready = WaitUntil(
        [&] {
          weft::admin::AdminGetOptions options;
          options.netns_path = "/run/netns/" + Node(node).netns();
          absl::StatusOr<weft::admin::AdminReply> readyz =
              weft::admin::AdminGet(Node(node).ztunnel().admin_addr(), "/readyz", options);
          if (!readyz.ok() || readyz->status != 200) {
            last = "ztunnel /readyz: " + (readyz.ok() ? readyz->body : readyz.status().ToString());
            return false;
          }
          last = "ztunnel /debug/pods: " + ZtunnelGet(node, "/debug/pods");
          if (last.find("\"" + uid + "\"") == std::string::npos) return false;
          last = "agent /debug/workloads: " + AgentGet(node, "/debug/workloads");
          return last.find(uid) != std::string::npos;
        },
        15'000);
    ASSERT_TRUE(ready) << "pod " << pod << " (" << uid << ") never ready on " << node
                       << "; last: " << last;
  }
}

double MetricSum(const std::string& exposition, const std::string& metric,
                 const std::vector<std::string>& labels) {
  std::istringstream in(exposition);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (!line.starts_with(metric + "{")) continue;
    size_t close = line.find('}');
    if (close == std::string::npos) continue;
    std::string label_text = line.substr(0, close);
    bool all = true;
    for (const std::string& l : labels) all = all && label_text.find(l) != std::string::npos;
    if (all) sum += std::strtod(line.c_str() + close + 1, nullptr);
  }
  return sum;
}

int CountLinesWith(const std::vector<std::string>& lines,
                   const std::vector<std::string>& fragments) {
  int count = 0;
  for (const std::string& line : lines) {
    bool all = true;
    for (const std::string& f : fragments) all = all && line.find(f) != std::string::npos;
    count += all ? 1 : 0;
  }
  return count;
}

}  // namespace weft::ztunnel::testing
