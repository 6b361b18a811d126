// Enrollment through the real agent in the lab: a pod of an ambient namespace is captured
// once something serves 0.0.0.0:15001 in it, within 1 s; label changes enroll and
// unenroll within 1 s and leave established connections alone, one opened before the pod
// was enrolled among them.
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/agent/agent_lab_fixture.h"

namespace weft::agent::testing {
namespace {

constexpr char kServerIp[] = "10.244.1.2";  // demo/server on node-b
constexpr int kServerPort = 8080;
constexpr int kLive = 1000;  // enrollment changes take effect within 1 s

TEST_F(AgentLabTest, EnrollmentFollowsListenerAndLabelsWithinOneSecond) {
  ASSERT_NO_FATAL_FAILURE(StartTwoNodeLab("agen", /*with_ztunnel=*/false));
  auto server = StartEchoServer(Placement("server", false), {kServerPort});
  ASSERT_NE(server, nullptr);
  auto client = StartPodClient(Placement("client", true));
  auto client2 = StartPodClient(Placement("client-2", true));
  ASSERT_NE(client, nullptr);
  ASSERT_NE(client2, nullptr);
  const std::string captured = std::string("ztunnel ") + kServerIp + ":8080";

  // Nobody serves 15001 in demo/client yet: not enrolled, the connect goes straight out.
  EXPECT_EQ(client->Call("probe 10.244.1.2 8080"), "server");
  // A direct connection opened before enrollment must outlive it (connection 0).
  ASSERT_EQ(client->Call("open 10.244.1.2 8080"), "0 server");

  auto ztunnel = StartStandInZtunnel(Placement("client", true));
  ASSERT_NE(ztunnel, nullptr);
  PollOutcome enroll = PollProbe(*client, kServerIp, kServerPort, captured, kLive);
  ASSERT_TRUE(enroll.reached) << "not captured within 1 s of the stand-in listening; last: "
                              << enroll.last;
  std::printf("enrolled %lld ms after the stand-in listened\n",
              static_cast<long long>(enroll.elapsed_ms));
  EXPECT_EQ(ztunnel->ReadLine(1000), "orig 10.244.1.2:8080");
  EXPECT_EQ(client->Call("echo 0"), "ok") << "a connection opened before enrollment broke";

  // demo/client-2 has no stand-in: it stays out and reaches the server directly.
  EXPECT_EQ(client2->Call("probe 10.244.1.2 8080"), "server");

  // A captured connection opened now must outlive the unenrollment (connection 1).
  std::optional<std::string> held = client->Call("open 10.244.1.2 8080");
  ASSERT_EQ(held, "1 " + captured);
  ASSERT_EQ(client->Call("echo 1"), "ok");

  ASSERT_NO_FATAL_FAILURE(Label({"namespace", "demo", "weft.dev/dataplane-mode-"}));
  PollOutcome unenroll = PollProbe(*client, kServerIp, kServerPort, "server", kLive);
  EXPECT_TRUE(unenroll.reached) << "still captured 1 s after the namespace label went; last: "
                                << unenroll.last;
  std::printf("unenrolled %lld ms after the label removal\n",
              static_cast<long long>(unenroll.elapsed_ms));
  EXPECT_EQ(client->Call("echo 1"), "ok") << "established captured connection broken";

  ASSERT_NO_FATAL_FAILURE(Label({"namespace", "demo", "weft.dev/dataplane-mode=ambient"}));
  PollOutcome reenroll = PollProbe(*client, kServerIp, kServerPort, captured, kLive);
  EXPECT_TRUE(reenroll.reached) << "not captured 1 s after the label came back; last: "
                                << reenroll.last;
  std::printf("re-enrolled %lld ms after the label came back\n",
              static_cast<long long>(reenroll.elapsed_ms));

  // The pod opt-out acts on one pod: give demo/client-2 a stand-in too, opt out demo/client.
  auto ztunnel2 = StartStandInZtunnel(Placement("client-2", true));
  ASSERT_NE(ztunnel2, nullptr);
  ASSERT_TRUE(PollProbe(*client2, kServerIp, kServerPort, captured, kLive).reached);
  ASSERT_NO_FATAL_FAILURE(Label({"pod", "demo/client", "weft.dev/dataplane-mode=none"}));
  PollOutcome opt_out = PollProbe(*client, kServerIp, kServerPort, "server", kLive);
  EXPECT_TRUE(opt_out.reached) << "demo/client still captured 1 s after opting out; last: "
                               << opt_out.last;
  EXPECT_EQ(client2->Call("probe 10.244.1.2 8080"), captured) << "opt-out leaked to client-2";
  EXPECT_EQ(client->Call("echo 1"), "ok") << "established captured connection broken";
  EXPECT_EQ(client->Call("echo 0"), "ok") << "the pre-enrollment connection broke";

  ASSERT_NO_FATAL_FAILURE(Label({"pod", "demo/client", "weft.dev/dataplane-mode-"}));
  PollOutcome opt_in = PollProbe(*client, kServerIp, kServerPort, captured, kLive);
  EXPECT_TRUE(opt_in.reached) << "demo/client not captured 1 s after the opt-out went; last: "
                              << opt_in.last;

  std::string metrics = AgentGet("node-a", "/metrics");
  EXPECT_NE(metrics.find("weft_enrolled_workloads 2"), std::string::npos) << metrics;
}

}  // namespace
}  // namespace weft::agent::testing
