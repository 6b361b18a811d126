// Hitless agent restart through the real agent and the lab supervisor: while demo/client
// holds 200 captured connections and opens a new one every 10 ms, the node agent is
// killed with SIGKILL three times (the supervisor restarts it). No connect fails or
// escapes capture, no held connection is reset, and the node's cgroup root carries the
// same programs at the end as at the start (a restart never attaches duplicates).
#include <signal.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/agent/agent_lab_fixture.h"

namespace weft::agent::testing {
namespace {

using weft::lab::testing::ProcessAlive;
using weft::lab::testing::ProcessComm;
using weft::lab::testing::ReadLabState;
using weft::lab::testing::RunProcess;
using weft::lab::testing::WaitUntil;

constexpr int kHeld = 200;
constexpr int kKills = 3;

int32_t AgentPid(const std::string& lab, const std::string& node) {
  const weft::lab::state::v1::LabState state = ReadLabState(lab);
  for (const auto& n : state.nodes()) {
    if (n.name() == node) return n.agent_pid();
  }
  return 0;
}

TEST_F(AgentLabTest, AgentKilledThreeTimesDropsNoConnection) {
  CapturedClientLab lab;
  ASSERT_NO_FATAL_FAILURE(StartCapturedClientLab("agrs", {8080}, &lab));
  PodProcess* client = lab.client.get();

  const std::string cgroup_root = Node("node-a").cgroup_root();
  const std::vector<std::string> programs_before = AttachedPrograms(cgroup_root);
  ASSERT_GE(programs_before.size(), 2u) << "no capture programs attached at " << cgroup_root << ": "
                                        << ::testing::PrintToString(programs_before);

  ASSERT_EQ(client->Call("hold 200 10.244.1.2 8080", 20000), "held 200 0 0");
  ASSERT_TRUE(client->Send("churn 10.244.1.2 8080 10"));

  for (int kill = 0; kill < kKills; ++kill) {
    int32_t pid = AgentPid(lab_, "node-a");
    ASSERT_TRUE(ProcessAlive(pid) && ProcessComm(pid) == "weft-agent")
        << "kill " << kill << ": no live node-a agent (pid " << pid << ")";
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int32_t next = 0;
    ASSERT_TRUE(WaitUntil(
        [&] {
          next = AgentPid(lab_, "node-a");
          return next != 0 && next != pid && ProcessAlive(next);
        },
        15000))
        << "kill " << kill << ": the supervisor did not restart the agent";
    ASSERT_TRUE(WaitUntil([&] { return !AgentGet("node-a", "/readyz").empty(); }, 10000))
        << "kill " << kill << ": restarted agent " << next << " never ready";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let it reconcile
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));

  std::optional<std::string> churn = client->Call("stop", 10000);
  ASSERT_TRUE(churn.has_value());
  std::istringstream in(*churn);
  std::string word;
  int attempts = -1;
  int failed = -1;
  int not_captured = -1;
  std::string first;
  in >> word >> attempts >> failed >> not_captured >> first;
  ASSERT_EQ(word, "churn") << *churn;
  std::printf("churn during %d agent kills: %s\n", kKills, churn->c_str());
  EXPECT_GT(attempts, 100) << *churn;
  EXPECT_EQ(failed, 0) << "connects failed during agent restarts: " << *churn;
  EXPECT_EQ(not_captured, 0) << "connects escaped capture during agent restarts: " << *churn;

  EXPECT_EQ(client->Call("echoall", 30000), "echoall 200 0 -")
      << "held connections broken by agent restarts";
  EXPECT_EQ(AttachedPrograms(cgroup_root), programs_before)
      << "programs attached at " << cgroup_root << " changed across restarts";
  EXPECT_EQ(ReadLabState(lab_).nodes(0).agent_restarts(), static_cast<uint32_t>(kKills));
}

}  // namespace
}  // namespace weft::agent::testing
