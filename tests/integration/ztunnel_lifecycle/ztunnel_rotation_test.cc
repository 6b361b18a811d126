// Certificate rotation under traffic: every ztunnel runs with --cert-ttl 10s, so each
// identity's certificate is renewed about every 5 s. For a minute, demo/client opens a new
// mesh connection to demo/server every 50 ms while 20 long-lived connections keep echoing:
// not one connect fails and not one established connection breaks, and the logs show the
// rotations really happened.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/agent/agent_lab_fixture.h"
#include "tests/integration/ztunnel_lifecycle/ztunnel_lab_support.h"

namespace weft::agent::testing {
namespace {

int DurationFromEnv(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && std::atoi(value) > 0 ? std::atoi(value) : fallback;
}

TEST_F(AgentLabTest, CertificatesRotateUnderTrafficWithoutAFailedConnection) {
  const int seconds = DurationFromEnv("WEFT_TEST_ROTATION_S", 60);
  ::setenv("WEFT_LAB_ZTUNNEL_FLAGS", "--cert-ttl=10s", 1);
  StartTwoNodeLab("zrot");
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

  const int rotations_before = CountInZtunnelLog(lab_, "node-a", "certificate in use");
  ASSERT_TRUE(churner->Send("churn 10.244.1.2 8080 50"));
  for (int elapsed = 0; elapsed < seconds; elapsed += 5) {
    std::this_thread::sleep_for(std::chrono::seconds(5));
    EXPECT_EQ(holder->Call("echoall", 20000), "echoall 20 0 -")
        << "established connections broke after " << elapsed + 5 << " s";
  }
  std::optional<std::string> reply = churner->Call("stop", 20000);
  ASSERT_TRUE(reply.has_value());
  ChurnResult churn = ParseChurn(*reply);
  std::printf("rotation churn over %d s: %s\n", seconds, churn.raw.c_str());
  EXPECT_GT(churn.attempts, seconds * 10) << churn.raw;
  EXPECT_EQ(churn.failed, 0) << "connects failed across certificate rotations: " << churn.raw;

  // Both sides renewed several times (10 s lifetime, renewal at half of it).
  const int client_rotations =
      CountInZtunnelLog(lab_, "node-a", "certificate in use") - rotations_before;
  const int server_rotations = CountInZtunnelLog(lab_, "node-b", "certificate in use");
  std::printf("rotations: node-a %d, node-b %d\n", client_rotations, server_rotations);
  EXPECT_GE(client_rotations, seconds / 10) << "client certificates did not rotate";
  EXPECT_GE(server_rotations, seconds / 10) << "server certificates did not rotate";
}

}  // namespace
}  // namespace weft::agent::testing
