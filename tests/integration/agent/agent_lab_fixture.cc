#include "tests/integration/agent/agent_lab_fixture.h"

#include <algorithm>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/status/statusor.h"
#include "common/admin/admin_client.h"

namespace weft::agent::testing {

using Clock = std::chrono::steady_clock;

void AgentLabTest::TearDown() {
  const std::string lab = lab_;
  weft::lab::testing::LabTest::TearDown();
  if (lab.empty()) return;
  std::vector<std::string> left = weft::lab::testing::FindLeftovers(lab, {});
  EXPECT_TRUE(left.empty()) << "lab " << lab << " left behind: " << ::testing::PrintToString(left);
}

PodPlacement AgentLabTest::Placement(const std::string& pod, bool join_cgroup) const {
  const auto& state = Pod(pod);
  PodPlacement placement;
  placement.netns = state.netns();
  if (join_cgroup) {
    placement.cgroup = state.cgroup();
    if (placement.cgroup.empty() || placement.cgroup[0] != '/') {
      placement.cgroup = weft::lab::testing::MountOfType("cgroup2") + "/" + placement.cgroup;
    }
  }
  return placement;
}

const weft::lab::state::v1::NodeState& AgentLabTest::Node(const std::string& name) const {
  for (const auto& node : state_.nodes()) {
    if (node.name() == name) return node;
  }
  ADD_FAILURE() << "no node " << name;
  return state_.nodes(0);
}

void AgentLabTest::Label(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"lab", "label", "--name", lab_};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = Weftctl(argv);
  ASSERT_EQ(r.exit_code, 0) << "lab label failed: " << r.err << r.out;
}

void AgentLabTest::ApplyConfig(const std::string& yaml) {
  char path[] = "/tmp/weft-agent-test-XXXXXX.yaml";
  int fd = ::mkstemps(path, 5);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, yaml.data(), yaml.size()), static_cast<ssize_t>(yaml.size()));
  ::close(fd);
  ProcessResult r = Weftctl({"lab", "apply", "--name", lab_, path});
  ::unlink(path);
  ASSERT_EQ(r.exit_code, 0) << "lab apply failed: " << r.err << r.out;
}

std::string AgentLabTest::AgentGet(const std::string& node, const std::string& path) {
  weft::admin::AdminGetOptions options;
  options.netns_path = "/run/netns/" + Node(node).netns();
  absl::StatusOr<weft::admin::AdminReply> reply =
      weft::admin::AdminGet(Node(node).admin_addr(), path, options);
  if (!reply.ok() || reply->status != 200) return "";
  return reply->body;
}

PollOutcome AgentLabTest::PollProbe(PodProcess& client, const std::string& ip, int port,
                                    const std::string& want, int timeout_ms) {
  PollOutcome outcome;
  Clock::time_point start = Clock::now();
  while (true) {
    Clock::time_point attempt = Clock::now();
    int64_t since_start =
        std::chrono::duration_cast<std::chrono::milliseconds>(attempt - start).count();
    if (since_start > timeout_ms) return outcome;
    outcome.last = client.Call("probe " + ip + " " + std::to_string(port)).value_or("(no reply)");
    if (outcome.last == want) {
      outcome.reached = true;
      outcome.elapsed_ms = since_start;
      return outcome;
    }
    std::this_thread::sleep_until(attempt + std::chrono::milliseconds(50));
  }
}

double MetricValue(const std::string& exposition, const std::string& metric,
                   const std::vector<std::string>& labels) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(metric + "{", 0) != 0) continue;
    size_t close = line.find('}');
    if (close == std::string::npos) continue;
    std::string label_text = line.substr(0, close);
    bool all = true;
    for (const std::string& l : labels) all = all && label_text.find(l) != std::string::npos;
    if (all) return std::strtod(line.c_str() + close + 1, nullptr);
  }
  return -1;
}

std::vector<std::string> AttachedPrograms(const std::string& cgroup) {
  ProcessResult r = weft::lab::testing::RunProcess({"bpftool", "-j", "cgroup", "show", cgroup}, 10);
  if (r.exit_code != 0) return {"bpftool failed: " + r.err};
  auto field = [&](const std::string& key, size_t from) {
    size_t at = r.out.find("\"" + key + "\":\"", from);
    if (at == std::string::npos) return std::string();
    at += key.size() + 4;
    return r.out.substr(at, r.out.find('"', at) - at);
  };
  std::vector<std::string> programs;
  for (size_t at = r.out.find('{'); at != std::string::npos; at = r.out.find('{', at + 1)) {
    programs.push_back(field("attach_type", at) + "/" + field("name", at));
  }
  std::sort(programs.begin(), programs.end());
  return programs;
}


void AgentLabTest::StartCapturedClientLab(const std::string& tag,
                                          const std::vector<uint16_t>& server_ports,
                                          CapturedClientLab* out) {
  ASSERT_FALSE(server_ports.empty());
  ASSERT_NO_FATAL_FAILURE(StartTwoNodeLab(tag, /*with_ztunnel=*/false));
  out->server = StartEchoServer(Placement("server", false), server_ports);
  ASSERT_NE(out->server, nullptr);
  out->ztunnel = StartStandInZtunnel(Placement("client", true));
  ASSERT_NE(out->ztunnel, nullptr);
  out->client = StartPodClient(Placement("client", true));
  ASSERT_NE(out->client, nullptr);
  const std::string port = std::to_string(server_ports[0]);
  ASSERT_TRUE(PollProbe(*out->client, "10.244.1.2", server_ports[0],
                        "ztunnel 10.244.1.2:" + port, 5000)
                  .reached)
      << "demo/client never enrolled";
}

}  // namespace weft::agent::testing
