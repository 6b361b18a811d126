// L4 AuthorizationPolicy in the kernel through the real agent: a DENY applied with
// `lab apply` makes the enrolled client's connect() fail with EPERM within 1 s, only for
// the denied port, is counted per workload and policy, and lifts when the policy does. The
// connect-latency and sRTT histograms of the captured connects are on /metrics. A policy
// with an L7 field is left to ztunnel (not refused in the kernel) and named in a gauge.
#include <cerrno>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/agent/agent_lab_fixture.h"

namespace weft::agent::testing {
namespace {

constexpr char kServerIp[] = "10.244.1.2";  // demo/server on node-b
constexpr int kLive = 1000;

std::string DenyPolicy(bool with_rules) {
  std::string yaml =
      "authorization_policies:\n"
      "  - name: deny-client-8080\n"
      "    namespace: demo\n"
      "    selector: {match_labels: {app: server}}\n"
      "    action: DENY\n";
  if (!with_rules) return yaml + "    rules: []\n";
  return yaml +
         "    rules:\n"
         "      - from:\n"
         "          - principals: [\"spiffe://cluster.local/ns/demo/sa/client\"]\n"
         "        to:\n"
         "          - ports: [8080]\n";
}

TEST_F(AgentLabTest, DenyPolicyFailsConnectWithEpermAndIsCounted) {
  CapturedClientLab lab;
  ASSERT_NO_FATAL_FAILURE(StartCapturedClientLab("agpo", {8080, 9090}, &lab));
  PodProcess* client = lab.client.get();
  const std::string captured_8080 = std::string("ztunnel ") + kServerIp + ":8080";
  const std::string captured_9090 = std::string("ztunnel ") + kServerIp + ":9090";
  // The captured connects above were timed by sockops: both per-workload histograms are on
  // /metrics with samples.
  const std::string before = AgentGet("node-a", "/metrics");
  for (const char* histogram :
       {"weft_workload_connect_latency_seconds_count", "weft_workload_srtt_seconds_count"}) {
    EXPECT_GE(MetricValue(before, histogram, {"workload=\"demo/client\""}), 1)
        << histogram << "\n" << before;
  }

  ASSERT_NO_FATAL_FAILURE(ApplyConfig(DenyPolicy(/*with_rules=*/true)));
  const std::string eperm = "err " + std::to_string(EPERM);
  PollOutcome denied = PollProbe(*client, kServerIp, 8080, eperm, kLive);
  ASSERT_TRUE(denied.reached) << "connect to :8080 not refused with EPERM within 1 s; last: "
                              << denied.last;
  std::printf("denied %lld ms after lab apply\n", static_cast<long long>(denied.elapsed_ms));
  EXPECT_EQ(client->Call("probe 10.244.1.2 9090"), captured_9090) << "the DENY is for 8080 only";

  std::string metrics = AgentGet("node-a", "/metrics");
  EXPECT_GE(MetricValue(metrics, "weft_workload_policy_denials_total",
                        {"workload=\"demo/client\"", "policy=\"demo/deny-client-8080\""}),
            1)
      << metrics;

  // `lab apply` replaces an object by namespace/name: the same policy without rules
  // matches nothing.
  ASSERT_NO_FATAL_FAILURE(ApplyConfig(DenyPolicy(/*with_rules=*/false)));
  PollOutcome lifted = PollProbe(*client, kServerIp, 8080, captured_8080, kLive);
  EXPECT_TRUE(lifted.reached) << "still refused 1 s after the policy lost its rules; last: "
                              << lifted.last;
}

// A policy the kernel cannot decide (an L7 field) is left to ztunnel: connects are still
// captured, not refused, and the agent names the policy in a gauge.
TEST_F(AgentLabTest, L7PolicyIsLeftToZtunnelAndNamedInTheMetrics) {
  CapturedClientLab lab;
  ASSERT_NO_FATAL_FAILURE(StartCapturedClientLab("agl7", {8080}, &lab));
  PodProcess* client = lab.client.get();
  const std::string captured_8080 = std::string("ztunnel ") + kServerIp + ":8080";

  ASSERT_NO_FATAL_FAILURE(ApplyConfig(
      "authorization_policies:\n"
      "  - name: no-delete\n"
      "    namespace: demo\n"
      "    selector: {match_labels: {app: server}}\n"
      "    action: DENY\n"
      "    rules:\n"
      "      - to:\n"
      "          - methods: [\"DELETE\"]\n"));
  std::string metrics;
  const bool named = weft::lab::testing::WaitUntil(
      [&] {
        metrics = AgentGet("node-a", "/metrics");
        return MetricValue(metrics, "weft_policy_kernel_deferred_entries",
                           {"policy=\"demo/no-delete\""}) >= 1;
      },
      kLive);
  EXPECT_TRUE(named) << "no deferred-entries gauge for demo/no-delete within 1 s\n" << metrics;
  EXPECT_EQ(client->Call("probe 10.244.1.2 8080"), captured_8080)
      << "the kernel must not refuse what only ztunnel can decide";
}

}  // namespace
}  // namespace weft::agent::testing
