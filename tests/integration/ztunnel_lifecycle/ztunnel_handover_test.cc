// A ztunnel replaced under traffic, as a rolling update does it: a successor starts
// alongside (same pods, same ports, SO_REUSEPORT), takes the pods over on the netns channel,
// and the old one gets SIGTERM and drains. Connections established before keep working
// until they finish; new connections fail for at most the handover window, which the test
// measures and prints (and bounds loosely).
#include <signal.h>

#include <cstdio>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/agent/agent_lab_fixture.h"
#include "tests/integration/lab/lab_test_support.h"
#include "tests/integration/ztunnel_lifecycle/ztunnel_lab_support.h"

namespace weft::agent::testing {
namespace {

using weft::lab::testing::ProcessAlive;
using weft::lab::testing::WaitUntil;

class ZtunnelHandoverTest : public AgentLabTest,
                            public ::testing::WithParamInterface<const char*> {};

TEST_P(ZtunnelHandoverTest, SuccessorTakesOverWhileTheOldOneDrains) {
  const std::string node_name = GetParam();
  ::setenv("WEFT_LAB_ZTUNNEL_FLAGS", "--drain-timeout=20s", 1);
  StartTwoNodeLab(node_name == "node-a" ? "zhoa" : "zhob");
  ::unsetenv("WEFT_LAB_ZTUNNEL_FLAGS");
  if (HasFatalFailure()) return;

  auto server = StartEchoServer(Placement("server", false), {8080});
  ASSERT_NE(server, nullptr);
  auto churner = StartPodClient(Placement("client", true));
  auto holder = StartPodClient(Placement("client", true));
  ASSERT_NE(churner, nullptr);
  ASSERT_NE(holder, nullptr);
  ASSERT_TRUE(PollProbe(*churner, "10.244.1.2", 8080, "server", 15000).reached)
      << "no mesh connection from demo/client to demo/server";
  ASSERT_EQ(holder->Call("hold 20 10.244.1.2 8080", 20000), "held 0 20 0");
  ASSERT_TRUE(churner->Send("churn 10.244.1.2 8080 10"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  const auto& node = Node(node_name);
  const pid_t old_pid = ZtunnelPid(lab_, node_name);
  ASSERT_TRUE(ProcessAlive(old_pid));
  const std::string successor_admin = node.underlay_ip() + ":15022";
  const pid_t successor = StartSuccessorZtunnel(
      state_, node, successor_admin, "/run/weft/lab/" + lab_ + "/ztunnel-successor.log");
  ASSERT_GT(successor, 0);
  ASSERT_TRUE(WaitUntil([&] { return NodeAdminStatus(node, successor_admin, "/readyz") == 200; },
                        15000))
      << "the successor ztunnel never became ready";
  // The old one was told it is superseded: no longer ready, still serving.
  ASSERT_TRUE(WaitUntil(
      [&] { return NodeAdminStatus(node, node.ztunnel().admin_addr(), "/readyz") == 503; }, 5000));
  ASSERT_EQ(::kill(old_pid, SIGTERM), 0);

  // Established connections ride the draining ztunnel.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    EXPECT_EQ(holder->Call("echoall", 20000), "echoall 20 0 -")
        << "established connections broke during the handover";
  }
  // They finish; the old ztunnel then exits well before its 20 s drain timeout.
  holder.reset();
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(old_pid) ||
                                     ZtunnelPid(lab_, node_name) != old_pid; },
                        15000))
      << "the old ztunnel did not exit once its connections were done";
  std::this_thread::sleep_for(std::chrono::seconds(1));

  std::optional<std::string> reply = churner->Call("stop", 20000);
  ASSERT_TRUE(reply.has_value());
  ChurnResult churn = ParseChurn(*reply);
  std::printf("handover of %s's ztunnel: %s (longest failing window %d ms)\n",
              node_name.c_str(), churn.raw.c_str(), churn.longest_failing_ms);
  if (churn.failed > 0) {
    // What the ztunnels said about the failures (warnings and refused connections).
    for (const std::string& log : {"/run/weft/lab/" + lab_ + "/ztunnel-" + node_name + ".log",
                                   "/run/weft/lab/" + lab_ + "/ztunnel-successor.log"}) {
      std::printf("--- %s (problems)\n%s", log.c_str(), ProblemLines(log, 20).c_str());
    }
  }
  RecordProperty("longest_failing_window_ms", churn.longest_failing_ms);
  RecordProperty("failed_connects", churn.failed);
  EXPECT_GT(churn.attempts, 100) << churn.raw;
  EXPECT_LT(churn.longest_failing_ms, 2000) << "new connections failed for too long: " << churn.raw;
  ::kill(successor, SIGKILL);
}

INSTANTIATE_TEST_SUITE_P(ClientAndServerSide, ZtunnelHandoverTest,
                         ::testing::Values("node-a", "node-b"));

}  // namespace
}  // namespace weft::agent::testing
