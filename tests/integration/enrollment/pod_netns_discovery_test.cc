// Discovery finds a pod's netns through a process in its cgroup, with the pod's
// address and the netns cookie BPF programs see, and forgets it when it is gone.
#include "agent/enrollment/pod_netns_discovery.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <thread>
#include <fstream>

#include "common/host/mount_table.h"
#include "gtest/gtest.h"

namespace weft::agent {
namespace {

int Sh(const std::string& cmd) { return std::system(cmd.c_str()); }

class PodNetnsDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cg2 = host::Cgroup2MountPoint();
    ASSERT_TRUE(cg2.ok()) << cg2.status();
    std::string tag = std::to_string(getpid());
    netns_ = "wdisc-" + tag;
    root_ = *cg2 + "/weft-disc-" + tag;
    ASSERT_EQ(Sh("ip netns add " + netns_), 0);
    ASSERT_EQ(Sh("ip -n " + netns_ + " link add eth0 type veth peer name peer0 && ip -n " + netns_ +
                 " addr add 10.77.0.5/24 dev eth0 && ip -n " + netns_ +
                 " addr add fd00:77::5/64 dev eth0 nodad && ip -n " + netns_ +
                 " link set eth0 up && ip -n " + netns_ + " link set peer0 up && ip -n " + netns_ +
                 " link set lo up"),
              0);
    std::filesystem::create_directories(root_ + "/shop-web");
  }

  void TearDown() override {
    StopPod();
    Sh("ip netns del " + netns_ + " 2>/dev/null");
    std::error_code ec;
    std::filesystem::remove(root_ + "/shop-web", ec);
    std::filesystem::remove(root_, ec);
  }

  // A "pause" process: joins the pod cgroup and netns, then sleeps.
  void StartPod() {
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::ofstream(root_ + "/shop-web/cgroup.procs") << getpid();
      int fd = open(("/run/netns/" + netns_).c_str(), O_RDONLY);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(2);
      pause();
      _exit(0);
    }
    // Wait (bounded) until the child sits in the cgroup.
    for (int i = 0; i < 200; ++i) {
      std::ifstream procs(root_ + "/shop-web/cgroup.procs");
      std::string pid;
      if (procs >> pid) return;
      usleep(10000);
    }
    FAIL() << "pause process never joined its cgroup";
  }

  void StopPod() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  std::string netns_, root_;
  pid_t pid_ = -1;
};

TEST_F(PodNetnsDiscoveryTest, FindsPodNetnsWithAddressAndCookie) {
  PodNetnsDiscovery discovery(root_);
  auto empty = discovery.Scan();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());

  StartPod();
  auto found = discovery.Scan();
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 1u);
  const PodNetns& ns = found->begin()->second;
  EXPECT_EQ(ns.cgroup, root_ + "/shop-web");
  EXPECT_NE(std::find(ns.addresses.begin(), ns.addresses.end(), "10.77.0.5"), ns.addresses.end());
  EXPECT_NE(std::find(ns.addresses.begin(), ns.addresses.end(), "fd00:77::5"),
            ns.addresses.end());
  // The cookie is the one a socket in that netns reports (checked independently).
  int fd = open(("/run/netns/" + netns_).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto direct = InspectNetns(fd);
  close(fd);
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_NE(ns.cookie, 0u);
  EXPECT_EQ(ns.cookie, direct->cookie);

  EXPECT_TRUE(ns.loopback_listeners.empty());
  // A listener on 127.0.0.1 inside the pod netns shows up on the next scan.
  std::thread listener_thread([&] {
    int netns_fd = open(("/run/netns/" + netns_).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_EQ(setns(netns_fd, CLONE_NEWNET), 0);
    close(netns_fd);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(15001);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(l, 8), 0);
    auto again = discovery.Scan();
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->size(), 1u);
    PodNetns listening = again->begin()->second;
    listening.loopback_listeners = LoopbackListeners(listening.pid);
    EXPECT_EQ(listening.loopback_listeners, std::vector<uint16_t>{15001});
    close(l);
  });
  listener_thread.join();

  StopPod();
  auto gone = discovery.Scan();
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->empty()) << "a pod without processes must be forgotten";
}

TEST_F(PodNetnsDiscoveryTest, MissingCgroupRootIsAClearError) {
  PodNetnsDiscovery discovery(root_ + "/nope");
  auto result = discovery.Scan();
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message()).find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace weft::agent
