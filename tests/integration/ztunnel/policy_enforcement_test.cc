// An L4 DENY for demo/client's identity on app=server port 8080, applied to a running lab,
// stops new connections from demo/client to that port before any byte reaches the app
// (refused by the kernel or reset by ztunnel), leaves other ports alone, and lifts within
// 2 s when the policy does.
#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/ztunnel/pod_servers.h"
#include "tests/integration/ztunnel/ztunnel_lab_fixture.h"

namespace weft::ztunnel::testing {
namespace {

using weft::agent::testing::PollOutcome;

std::string DenyClientPolicy(bool with_rules) {
  std::string yaml =
      "authorization_policies:\n"
      "  - name: deny-client-8080\n"
      "    namespace: demo\n"
      "    selector: {match_labels: {app: server}}\n"
      "    action: DENY\n";
  if (!with_rules) return yaml + "    rules: []\n";  // replaces the policy: matches nothing
  return yaml +
         "    rules:\n"
         "      - from:\n"
         "          - principals: [\"spiffe://cluster.local/ns/demo/sa/client\"]\n"
         "        to:\n"
         "          - ports: [8080]\n";
}

TEST_F(ZtunnelLabTest, PolicyDenyRefusesAndAllowPasses) {
  ASSERT_NO_FATAL_FAILURE(StartMeshLab("ztpol"));
  ASSERT_NO_FATAL_FAILURE(WaitForMesh({"client", "server", "server-2"}));
  std::unique_ptr<PodProcess> server = PodProcess::Start(
      Placement("server", false), [](int c) { return RunNamedServer(c, "server", {8080}); });
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(server->ReadLine(5000), "ready");
  std::unique_ptr<PodProcess> server2 = PodProcess::Start(
      Placement("server-2", false), [](int c) { return RunNamedServer(c, "server-2", {9090}); });
  ASSERT_NE(server2, nullptr);
  ASSERT_EQ(server2->ReadLine(5000), "ready");
  auto client = weft::agent::testing::StartPodClient(Placement("client", true));
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(client->Call("probe 10.244.1.2 8080"), "server");
  ASSERT_EQ(client->Call("probe 10.244.1.3 9090"), "server-2");

  ASSERT_NO_FATAL_FAILURE(ApplyConfig(DenyClientPolicy(/*with_rules=*/true)));
  // The first refused connect marks the policy in force; allow the agent 2 s to get there.
  std::string reply;
  bool denied = weft::lab::testing::WaitUntil(
      [&] {
        reply = client->Call("probe 10.244.1.2 8080").value_or("(no reply)");
        return reply.starts_with("err ");
      },
      2000);
  ASSERT_TRUE(denied) << "still reaching demo/server:8080 2 s after the DENY; last: " << reply;
  std::printf("denied as: %s\n", reply.c_str());
  // From now on nothing reaches the app, whichever layer refuses.
  const std::string accepted_before = server->Call("count").value_or("?");
  for (int i = 0; i < 5; ++i) {
    std::string again = client->Call("probe 10.244.1.2 8080").value_or("(no reply)");
    EXPECT_TRUE(again.starts_with("err ")) << "connect #" << i << " under DENY got: " << again;
  }
  EXPECT_EQ(server->Call("count"), accepted_before) << "the app accepted a denied connection";
  EXPECT_EQ(client->Call("probe 10.244.1.3 9090"), "server-2") << "the DENY covers 8080 only";

  ASSERT_NO_FATAL_FAILURE(ApplyConfig(DenyClientPolicy(/*with_rules=*/false)));
  PollOutcome lifted = PollProbe(*client, "10.244.1.2", 8080, "server", 2000);
  EXPECT_TRUE(lifted.reached) << "still refused 2 s after the policy lost its rules; last: "
                              << lifted.last;
  std::printf("allowed again %lld ms after lab apply\n", static_cast<long long>(lifted.elapsed_ms));
}

}  // namespace
}  // namespace weft::ztunnel::testing
