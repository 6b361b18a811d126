// `lab down` removes everything a lab made: after a clean run, after `kill -9` of the
// supervisor (and of an agent), and after a crash in the middle of `lab up`.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/lab/lab_fixture.h"

namespace weft::lab::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<pid_t> RecordedPids(const weft::lab::state::v1::LabState& state) {
  std::vector<pid_t> pids = {state.supervisor_pid()};
  for (const auto& node : state.nodes()) pids.push_back(node.agent_pid());
  for (const auto& pod : state.pods()) pids.push_back(pod.sandbox_pid());
  return pids;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

TEST_F(LabTest, DownLeavesNothingBehind) {
  StartTwoNodeLab("down");
  // What FindLeftovers looks for does exist while the lab runs: the check can fail.
  EXPECT_TRUE(Exists(MountOfType("cgroup2") + "/weft-lab-" + lab_));
  EXPECT_TRUE(Exists("/run/weft/lab/" + lab_));
  EXPECT_THAT(RunProcess({"ip", "netns", "list"}).out, HasSubstr("weft-" + lab_ + "-node-a"));
  EXPECT_THAT(RunProcess({"ip", "-n", "weft-" + lab_ + "-node-a", "-o", "link"}).out,
              HasSubstr("alias weft-lab-" + lab_));
  EXPECT_THAT(HostLinksWithLabAlias(lab_), IsEmpty()) << "veths belong in the lab's namespaces";
  std::vector<pid_t> pids = RecordedPids(state_);
  ASSERT_EQ(pids.size(), 7u) << "supervisor, 2 agents, 4 sandboxes";
  for (pid_t pid : pids) EXPECT_TRUE(ProcessAlive(pid)) << pid;

  ProcessResult again = Weftctl({"lab", "up", TwoNodeTopologyPath(), "--name", lab_});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("already running"));

  ProcessResult down = Weftctl({"lab", "down", "--name", lab_});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_THAT(FindLeftovers(lab_, pids), IsEmpty());

  ProcessResult idempotent = Weftctl({"lab", "down", "--name", lab_});
  EXPECT_EQ(idempotent.exit_code, 0) << idempotent.err;
  EXPECT_THAT(idempotent.out, HasSubstr("does not exist"));
}

TEST_F(LabTest, DownCleansUpAfterSupervisorAndAgentAreKilled) {
  StartTwoNodeLab("kill");
  pid_t first_agent = state_.nodes(0).agent_pid();
  ASSERT_EQ(::kill(first_agent, SIGKILL), 0);
  // The supervisor restarts the agent under a new pid.
  pid_t restarted = 0;
  EXPECT_TRUE(WaitUntil(
      [&] {
        restarted = ReadLabState(lab_).nodes(0).agent_pid();
        return restarted != 0 && restarted != first_agent && ProcessAlive(restarted);
      },
      15000))
      << "agent of node-a was not restarted";

  weft::lab::state::v1::LabState state = ReadLabState(lab_);
  std::vector<pid_t> pids = RecordedPids(state);
  pids.push_back(first_agent);
  ASSERT_EQ(::kill(state.supervisor_pid(), SIGKILL), 0);
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(state.supervisor_pid()); }, 5000));
  // Agents die with their supervisor (PR_SET_PDEATHSIG).
  for (const auto& node : state.nodes()) {
    EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(node.agent_pid()); }, 5000))
        << "agent " << node.agent_pid() << " outlived its supervisor";
  }
  for (const auto& pod : state.pods()) {
    EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(pod.sandbox_pid()); }, 5000))
        << "sandbox " << pod.sandbox_pid() << " of " << pod.name() << " outlived its supervisor";
  }
  EXPECT_THAT(FindLeftovers(lab_, pids), ::testing::Not(IsEmpty()));

  ProcessResult down = Weftctl({"lab", "down", "--name", lab_});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_THAT(FindLeftovers(lab_, pids), IsEmpty());
}

TEST_F(LabTest, DownCleansUpAfterCrashInTheMiddleOfUp) {
  lab_ = UniqueLabName("half");
  Weftctl({"lab", "down", "--name", lab_});
  pid_t up = SpawnWeftctl({"lab", "up", TwoNodeTopologyPath(), "--name", lab_});
  ASSERT_GT(up, 0);
  // Kill it as soon as it has created something: the first node namespace.
  bool building = WaitUntil(
      [&] {
        return RunProcess({"ip", "netns", "list"}).out.find("weft-" + lab_ + "-node-a") !=
               std::string::npos;
      },
      20000);
  ::kill(up, SIGKILL);
  ::waitpid(up, nullptr, 0);
  ASSERT_TRUE(building) << "lab up never created a namespace";
  weft::lab::state::v1::LabState state = ReadLabState(lab_);
  EXPECT_EQ(state.name(), lab_) << "state.json must exist before anything is created";

  ProcessResult again = Weftctl({"lab", "up", TwoNodeTopologyPath(), "--name", lab_});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("lab down"));

  ProcessResult down = Weftctl({"lab", "down", "--name", lab_});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_THAT(FindLeftovers(lab_, RecordedPids(state)), IsEmpty());
}

}  // namespace
}  // namespace weft::lab::testing
