// The lab fixture (tests/integration/lab/lab_fixture.h: unique lab name, `lab up` of the
// two-node topology, `lab down` in TearDown) plus what the agent tests need: placing test
// processes in pods, changing labels and policies, reading the node agent's metrics, and
// polling a pod's connects until they show an expected outcome.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/agent/pod_process.h"
#include "tests/integration/lab/lab_fixture.h"

namespace weft::agent::testing {

using weft::lab::testing::ProcessResult;
using weft::lab::testing::Weftctl;

// How a pod's connects looked while polling: whether the wanted outcome came, after how
// long (from the start of polling to the start of the connect that showed it), and the
// last reply seen.
struct PollOutcome {
  bool reached = false;
  int64_t elapsed_ms = -1;
  std::string last;
};

// The processes of a lab with one captured client: an echo server in demo/server (node-b,
// outside its cgroup), a stand-in ztunnel and a client in demo/client (node-a, in its
// cgroup), the client already seen captured.
struct CapturedClientLab {
  std::unique_ptr<PodProcess> server;
  std::unique_ptr<PodProcess> ztunnel;
  std::unique_ptr<PodProcess> client;
};

class AgentLabTest : public weft::lab::testing::LabTest {
 protected:
  // Brings the two-node lab up (no real ztunnel) and starts a CapturedClientLab with the
  // server listening on `server_ports`; waits up to 5 s for demo/client's connect to
  // 10.244.1.2:<first port> to be captured. Fails the test (fatally) when any step does:
  // call it inside ASSERT_NO_FATAL_FAILURE.
  void StartCapturedClientLab(const std::string& tag, const std::vector<uint16_t>& server_ports,
                              CapturedClientLab* out);
  // `lab down`, then nothing of the lab may be left (netns, cgroups, state dir, pins).
  void TearDown() override;

  // The pod's netns, and its cgroup when `join_cgroup` (the agent's cgroup programs see
  // only sockets of the pod cgroups under its cgroup root).
  PodPlacement Placement(const std::string& pod, bool join_cgroup) const;
  const weft::lab::state::v1::NodeState& Node(const std::string& name) const;

  // `weftctl lab label --name LAB ARGS...`; fails the test when it does.
  void Label(const std::vector<std::string>& args);
  // Writes `yaml` to a temporary file and `lab apply`s it; fails the test when it fails.
  void ApplyConfig(const std::string& yaml);

  // GET `path` from node `node`'s agent admin port (inside the node netns); "" on failure.
  std::string AgentGet(const std::string& node, const std::string& path);

  // Sends "probe IP PORT" through `client` every 50 ms until the reply equals `want`,
  // for at most `timeout_ms`.
  static PollOutcome PollProbe(PodProcess& client, const std::string& ip, int port,
                               const std::string& want, int timeout_ms);
};

// The value of the sample of `metric` whose labels include every `labels` pair
// (`key="value"`), or -1 when there is none.
double MetricValue(const std::string& exposition, const std::string& metric,
                   const std::vector<std::string>& labels);

// "attach_type/name" of each program attached to `cgroup` itself, as bpftool lists them,
// sorted; {"bpftool failed: ..."} when it fails.
std::vector<std::string> AttachedPrograms(const std::string& cgroup);

}  // namespace weft::agent::testing
