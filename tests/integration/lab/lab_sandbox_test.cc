// Every pod has a sandbox ("weft-pause") for the lab's whole life: the only process of the
// pod's cgroup until something is exec'd there, and in the pod's own network namespace,
// because that is how the node agent finds a pod's netns. A killed sandbox comes back.
#include <signal.h>

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/integration/lab/lab_fixture.h"

namespace weft::lab::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using weft::lab::state::v1::LabStatus;
using weft::lab::state::v1::PodState;

// `pid` is a sandbox process living in `pod`'s very netns (not one with equal addresses).
void ExpectSandboxOf(const PodState& pod, pid_t pid) {
  SCOPED_TRACE("pod " + pod.name() + ", pid " + std::to_string(pid));
  EXPECT_TRUE(ProcessAlive(pid));
  EXPECT_EQ(ProcessComm(pid), "weft-pause");
  uint64_t pod_netns = NamespaceInode("/run/netns/" + pod.netns());
  ASSERT_NE(pod_netns, 0u);
  EXPECT_EQ(NamespaceInode("/proc/" + std::to_string(pid) + "/ns/net"), pod_netns);
}

LabStatus StatusJson(const std::string& lab) {
  ProcessResult json = Weftctl({"lab", "status", "--name", lab, "--output", "json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  LabStatus status;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &status).ok()) << json.out;
  return status;
}

TEST_F(LabTest, EveryPodHasOneSandboxInItsCgroupAndNetns) {
  StartTwoNodeLab("sbox");
  for (const PodState& pod : state_.pods()) {
    ASSERT_GT(pod.sandbox_pid(), 0) << pod.name();
    EXPECT_THAT(PidsInCgroup(pod.cgroup()), ElementsAre(pod.sandbox_pid()))
        << "the sandbox must be the only process of " << pod.cgroup();
    ExpectSandboxOf(pod, pod.sandbox_pid());
  }

  LabStatus status = StatusJson(lab_);
  ASSERT_EQ(status.pod_statuses_size(), state_.pods_size());
  for (int i = 0; i < status.pod_statuses_size(); ++i) {
    EXPECT_EQ(status.pod_statuses(i).pod().sandbox_pid(), state_.pods(i).sandbox_pid());
    EXPECT_TRUE(status.pod_statuses(i).sandbox_alive()) << state_.pods(i).name();
  }
  ProcessResult table = Weftctl({"lab", "status", "--name", lab_});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("SANDBOX PID"));
  EXPECT_THAT(table.out, HasSubstr(std::to_string(Pod("server").sandbox_pid())));
}

TEST_F(LabTest, KilledSandboxIsRestartedInTheSameNetns) {
  StartTwoNodeLab("sbrs");
  const PodState pod = Pod("server");
  const pid_t first = pod.sandbox_pid();
  ASSERT_GT(first, 0);
  ASSERT_EQ(::kill(first, SIGKILL), 0);

  PodState restarted;
  EXPECT_TRUE(WaitUntil(
      [&] {
        const weft::lab::state::v1::LabState state = ReadLabState(lab_);
        for (const PodState& p : state.pods()) {
          if (p.name() == pod.name()) restarted = p;
        }
        return restarted.sandbox_pid() != 0 && restarted.sandbox_pid() != first &&
               ProcessAlive(restarted.sandbox_pid());
      },
      5000))
      << "sandbox of " << pod.name() << " was not restarted";
  ASSERT_NE(restarted.sandbox_pid(), 0);
  EXPECT_FALSE(ProcessAlive(first));
  EXPECT_EQ(restarted.sandbox_restarts(), 1u);
  EXPECT_THAT(PidsInCgroup(pod.cgroup()), ElementsAre(restarted.sandbox_pid()));
  ExpectSandboxOf(pod, restarted.sandbox_pid());

  // The other pods' sandboxes were left alone.
  const weft::lab::state::v1::LabState after = ReadLabState(lab_);
  for (const PodState& other : after.pods()) {
    if (other.name() == pod.name()) continue;
    EXPECT_EQ(other.sandbox_pid(), Pod(other.name()).sandbox_pid()) << other.name();
  }
  LabStatus status = StatusJson(lab_);
  for (const auto& p : status.pod_statuses()) {
    EXPECT_TRUE(p.sandbox_alive()) << p.pod().name();
  }

  ProcessResult down = Weftctl({"lab", "down", "--name", lab_});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_THAT(FindLeftovers(lab_, {first, restarted.sandbox_pid()}), ::testing::IsEmpty());
}

}  // namespace
}  // namespace weft::lab::testing
