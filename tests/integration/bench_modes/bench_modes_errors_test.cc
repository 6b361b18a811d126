// StunnelPair and IptablesCapture outside any lab, in a throwaway network namespace: the
// failures an operator of the bench suite would meet (missing binary, a relay that cannot
// start, a bad rule, a chain someone else owns) come back as errors that say what failed,
// and the iptables capture leaves exactly what was there before. Needs root.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/modes/iptables_capture.h"
#include "bench/modes/netns_command.h"
#include "bench/modes/stunnel_pair.h"
#include "gtest/gtest.h"

namespace weft::bench::modes {
namespace {

// "Threads:" of /proc/PID/status; -1 when unreadable.
int Threads(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Threads:")) return std::atoi(line.c_str() + 8);
  }
  return -1;
}

// A connected TCP socket to 127.0.0.1:port inside the netns at `netns_path`; -1 on failure.
int ConnectInNetns(const std::string& netns_path, uint16_t port) {
  int fd = -1;
  std::thread([&] {
    int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) return;
    ::close(ns);
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      fd = -1;
    }
  }).join();
  return fd;
}

class BenchModesNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = "weftbm" + std::to_string(::getpid());
    RunCommand({"ip", "netns", "del", name_}).IgnoreError();  // an aborted earlier run
    absl::StatusOr<std::string> added = RunCommandOk({"ip", "netns", "add", name_});
    ASSERT_TRUE(added.ok()) << added.status();
    created_ = true;
    ASSERT_TRUE(RunCommandOk({"ip", "link", "set", "lo", "up"}, path()).ok());
    char dir[] = "/tmp/weft-bench-modes-err-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    work_dir_ = dir;
  }
  void TearDown() override {
    if (created_) {
      EXPECT_TRUE(RunCommandOk({"ip", "netns", "del", name_}).ok());
    }
    if (!work_dir_.empty()) std::filesystem::remove_all(work_dir_);
  }
  std::string path() const { return "/run/netns/" + name_; }
  std::string NatRules() {
    absl::StatusOr<std::string> rules = RunCommandOk({"iptables", "-t", "nat", "-S"}, path());
    EXPECT_TRUE(rules.ok()) << rules.status();
    return rules.ok() ? *rules : "";
  }
  StunnelPairOptions Loopback() const {
    StunnelPairOptions o;
    o.client_netns_path = o.server_netns_path = path();
    o.server_ip = "127.0.0.1";
    o.services = {{"app", 18080, 18443, "127.0.0.1:8080"}};
    o.work_dir = work_dir_;
    o.ready_timeout_ms = 2000;
    return o;
  }

  std::string name_;
  bool created_ = false;
  std::string work_dir_;
};

TEST_F(BenchModesNetnsTest, StunnelPairNamesAMissingBinary) {
  StunnelPairOptions o = Loopback();
  o.stunnel_binary = "/nonexistent/stunnel4";
  absl::StatusOr<std::unique_ptr<StunnelPair>> pair = StunnelPair::Start(o);
  ASSERT_FALSE(pair.ok());
  EXPECT_NE(pair.status().message().find("/nonexistent/stunnel4"), absl::string_view::npos)
      << pair.status();
}

TEST_F(BenchModesNetnsTest, StunnelPairThatCannotListenSaysWhichSideAndWhy) {
  StunnelPairOptions o = Loopback();
  o.server_ip = "192.0.2.77";  // not an address of this netns: the server side cannot bind
  absl::StatusOr<std::unique_ptr<StunnelPair>> pair = StunnelPair::Start(o);
  ASSERT_FALSE(pair.ok());
  const std::string message(pair.status().message());
  std::printf("%s\n", message.c_str());
  EXPECT_NE(message.find("server stunnel"), std::string::npos) << message;
  EXPECT_NE(message.find("Cannot assign requested address"), std::string::npos) << message;
}

TEST_F(BenchModesNetnsTest, StunnelPairStartsOnLoopbackAndStopsBothRelays) {
  absl::StatusOr<std::unique_ptr<StunnelPair>> pair = StunnelPair::Start(Loopback());
  ASSERT_TRUE(pair.ok()) << pair.status();
  const pid_t client = (*pair)->client_pid();
  const pid_t server = (*pair)->server_pid();
  ASSERT_GT(client, 0);
  ASSERT_GT(server, 0);
  EXPECT_EQ(::kill(client, 0), 0);
  EXPECT_EQ(std::filesystem::status(work_dir_ + "/pki/client.key").permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // stunnel's threading (Threading:PTHREAD on Debian): a thread per connection on top of
  // two idle ones. A TCP connection that has not started TLS holds one on the server side.
  // Start's readiness probes were connections too: let their threads finish first.
  int idle = Threads(server);
  for (int i = 0; i < 200 && idle > 2; ++i) {
    ::usleep(10'000);
    idle = Threads(server);
  }
  EXPECT_EQ(idle, 2) << "main loop + cron";
  int fd = ConnectInNetns(path(), 18443);
  ASSERT_GE(fd, 0);
  int busy = idle;
  for (int i = 0; i < 100 && busy == idle; ++i) {
    ::usleep(10'000);
    busy = Threads(server);
  }
  std::printf("server relay threads: %d idle, %d with one connection\n", idle, busy);
  EXPECT_EQ(busy, idle + 1);
  ::close(fd);
  pair->reset();
  EXPECT_NE(::kill(client, 0), 0) << "client relay still running";
  EXPECT_NE(::kill(server, 0), 0) << "server relay still running";
}

TEST_F(BenchModesNetnsTest, IptablesCaptureInstallsAndRemovesOnlyItsChain) {
  const std::string before = NatRules();
  {
    absl::StatusOr<std::unique_ptr<IptablesCapture>> capture =
        IptablesCapture::Install({.netns_path = path()});
    ASSERT_TRUE(capture.ok()) << capture.status();
    const std::string rules = NatRules();
    EXPECT_NE(rules.find("-A OUTPUT -p tcp -j WEFT_BENCH_OUTPUT"), std::string::npos) << rules;
    EXPECT_NE(rules.find("-m mark --mark 0x539 -j RETURN"), std::string::npos) << rules;
    EXPECT_NE(rules.find("-d 127.0.0.0/8 -j RETURN"), std::string::npos) << rules;
    EXPECT_NE(rules.find("-j REDIRECT --to-ports 15001"), std::string::npos) << rules;
  }
  EXPECT_EQ(NatRules(), before);
}

TEST_F(BenchModesNetnsTest, IptablesCaptureFailingMidwayNamesTheRuleAndLeavesNothing) {
  const std::string before = NatRules();
  IptablesCaptureOptions o{.netns_path = path()};
  o.exclude_cidrs = {"127.0.0.0/8", "not-a-cidr"};
  absl::StatusOr<std::unique_ptr<IptablesCapture>> capture = IptablesCapture::Install(o);
  ASSERT_FALSE(capture.ok());
  const std::string message(capture.status().message());
  EXPECT_NE(message.find("-d not-a-cidr -j RETURN"), std::string::npos) << message;
  EXPECT_NE(message.find("not found"), std::string::npos) << message;  // iptables' stderr
  EXPECT_EQ(NatRules(), before);
}

TEST_F(BenchModesNetnsTest, IptablesCaptureLeavesAChainItDidNotCreate) {
  ASSERT_TRUE(RunCommandOk({"iptables", "-t", "nat", "-N", "WEFT_BENCH_OUTPUT"}, path()).ok());
  const std::string before = NatRules();
  absl::StatusOr<std::unique_ptr<IptablesCapture>> capture =
      IptablesCapture::Install({.netns_path = path()});
  ASSERT_FALSE(capture.ok());
  EXPECT_NE(capture.status().message().find("WEFT_BENCH_OUTPUT"), absl::string_view::npos)
      << capture.status();
  EXPECT_EQ(NatRules(), before);
}

}  // namespace
}  // namespace weft::bench::modes
