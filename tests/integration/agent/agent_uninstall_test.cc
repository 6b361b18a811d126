// `weft-agent --uninstall` after a crash: a node whose agent died with everything
// pinned (programs attached, maps and links under <bpffs>/weft/<instance>/) is left with
// nothing of weft in the kernel.
#include <signal.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "common/host/mount_table.h"
#include "gtest/gtest.h"
#include "tests/integration/agent/agent_lab_fixture.h"

namespace weft::agent::testing {
namespace {

using weft::lab::testing::RunProcess;
using weft::lab::testing::WaitUntil;

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

TEST_F(AgentLabTest, UninstallAfterACrashLeavesNothingPinnedOrAttached) {
  ASSERT_NO_FATAL_FAILURE(StartTwoNodeLab("agun", /*with_ztunnel=*/false));
  auto bpffs = host::FindMountOfType("bpf");
  ASSERT_TRUE(bpffs.ok()) << bpffs.status();
  const auto& node = Node("node-a");
  const std::string instance = "lab-" + lab_ + "-node-a";
  const std::string pin_dir = *bpffs + "/weft/" + instance;
  ASSERT_TRUE(Exists(pin_dir + "/links"));
  ASSERT_FALSE(AttachedPrograms(node.cgroup_root()).empty());

  // Kill the supervisor: its agents die with it (PDEATHSIG) and leave every pin behind.
  ASSERT_EQ(::kill(state_.supervisor_pid(), SIGKILL), 0);
  const int agent = node.agent_pid();
  ASSERT_TRUE(WaitUntil([&] { return ::kill(agent, 0) != 0; }, 5000)) << "agent survived";
  EXPECT_FALSE(AttachedPrograms(node.cgroup_root()).empty()) << "pins did not keep programs";

  auto r = RunProcess({std::string(WEFT_BINARY_DIR) + "/agent/weft-agent", "--uninstall",
                       "--instance", instance, "--bpffs", *bpffs},
                      30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(Exists(pin_dir)) << "pins left under " << pin_dir;
  EXPECT_TRUE(AttachedPrograms(node.cgroup_root()).empty()) << "programs still attached";
}

}  // namespace
}  // namespace weft::agent::testing
