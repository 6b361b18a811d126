// Capture under volume: 100,000 short connections leave orig_dst at its baseline,
// agent restarts while a client keeps 200 connections open and keeps opening new
// ones, and the connect4 cost / connection-rate figures (printed, not asserted).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/bpf/capture/capture_program.h"
#include "common/host/mount_table.h"
#include "gtest/gtest.h"
#include "tests/bpf/capture/capture_test_env.h"

namespace weft::capture_test {
namespace {

using weft::bpf::capture::CaptureOptions;
using weft::bpf::capture::CaptureProgram;
using weft::bpf::capture::CaptureWorkload;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kWorkloadId = 3;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// In the pod: n connect/read-greeting/close cycles to ip:port (port varied so the
// original destinations differ); every 8th closes with RST (SO_LINGER 0) to cover
// the abortive path. Returns "<failures> <seconds>".
std::string ShortConnections(const std::string& ip, uint16_t base_port, int n,
                             bool vary_port = true) {
  // TIME_WAIT sockets of the closing client would exhaust the default port range.
  int fd = open("/proc/sys/net/ipv4/ip_local_port_range", O_WRONLY);
  if (fd >= 0) {
    (void)!write(fd, "1024 65000", 10);
    close(fd);
  }
  int failures = 0;
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    socklen_t len;
    sockaddr_storage dst =
        Endpoint(ip, static_cast<uint16_t>(base_port + (vary_port ? i % 1000 : 0)), &len);
    int s = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char buf[128];
    if (connect(s, reinterpret_cast<sockaddr*>(&dst), len) != 0 || read(s, buf, sizeof(buf)) <= 0) {
      ++failures;
    }
    if (i % 8 == 0) {
      linger lg{1, 0};
      setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(s);
  }
  return absl::StrCat(failures, " ", Seconds(Clock::now() - start));
}

std::pair<int, double> ParseResult(const std::string& out) {
  std::vector<std::string> parts = absl::StrSplit(out, ' ');
  int failures = -1;
  double seconds = 0;
  if (parts.size() == 2) {
    (void)absl::SimpleAtoi(parts[0], &failures);
    (void)absl::SimpleAtod(parts[1], &seconds);
  }
  return {failures, seconds};
}

class CaptureLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> bpffs = weft::host::EnsureBpffsMounted();
    ASSERT_TRUE(bpffs.ok()) << bpffs.status();
    pin_dir_ = absl::StrCat(*bpffs, "/weft/test-", getpid());
    CaptureProgram::Uninstall(pin_dir_).IgnoreError();
    auto cgroup = TestCgroup::Create("cg");
    ASSERT_TRUE(cgroup.ok()) << cgroup.status();
    cgroup_ = std::move(*cgroup);
    auto netns = TestNetns::Create("load");
    ASSERT_TRUE(netns.ok()) << netns.status();
    netns_ = std::move(*netns);
    ASSERT_NO_FATAL_FAILURE(CreateProgram());
    CaptureWorkload w;
    w.workload_id = kWorkloadId;
    ASSERT_TRUE(program_->Enroll(netns_->cookie(), w).ok());
    auto ztunnel = ZtunnelStandIn::Start(*cgroup_, *netns_);
    ASSERT_TRUE(ztunnel.ok()) << ztunnel.status();
    ztunnel_ = std::move(*ztunnel);
  }

  void TearDown() override {
    ztunnel_.reset();
    program_.reset();
    EXPECT_TRUE(CaptureProgram::Uninstall(pin_dir_).ok());
  }

  void CreateProgram() {
    CaptureOptions options;
    options.cgroup_root = cgroup_->path();
    options.pin_dir = pin_dir_;
    auto program = CaptureProgram::Create(options);
    ASSERT_TRUE(program.ok()) << program.status();
    program_ = std::move(*program);
  }

  size_t OrigDstSizeSettled(size_t want, int timeout_ms = 5000) {
    size_t size = 0;
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    do {
      auto entries = program_->DumpOrigDst();
      size = entries.ok() ? entries->size() : ~size_t{0};
      if (size == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (Clock::now() < deadline);
    return size;
  }

  // run_time_ns / run_cnt of the program attached at the cgroup for `type`.
  std::pair<uint64_t, uint64_t> RunStats(bpf_attach_type type) {
    uint32_t ids[4], count = 4, flags = 0;
    if (bpf_prog_query(cgroup_->fd(), type, 0, &flags, ids, &count) != 0 || count != 1) {
      return {0, 0};
    }
    int fd = bpf_prog_get_fd_by_id(ids[0]);
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    bool ok = fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0;
    if (fd >= 0) close(fd);
    return ok ? std::make_pair(info.run_time_ns, info.run_cnt) : std::make_pair(0ull, 0ull);
  }

  std::string pin_dir_;
  std::unique_ptr<TestCgroup> cgroup_;
  std::unique_ptr<TestNetns> netns_;
  std::unique_ptr<CaptureProgram> program_;
  std::unique_ptr<ZtunnelStandIn> ztunnel_;
};

// IPv4 captures keep their original destination in the capture slot and write no
// per-socket entry; IPv6 captures write one orig_dst entry per socket from sockops. Both
// families, 100,000 each: every entry the IPv6 ones made must be gone at the end.
TEST_F(CaptureLoadTest, HundredThousandShortConnectionsPerFamilyLeaveOrigDstAtBaseline) {
  constexpr int kConnections = 100000;
  ASSERT_EQ(OrigDstSizeSettled(0), 0u);
  for (const char* destination : {"10.99.0.7", "fd99::7"}) {
    const std::string ip = destination;
    auto out = RunInPod(
        *cgroup_, *netns_, [ip] { return ShortConnections(ip, 20000, kConnections); }, 50000);
    ASSERT_TRUE(out.ok()) << destination << ": " << out.status();
    auto [failures, seconds] = ParseResult(*out);
    EXPECT_EQ(failures, 0) << destination;
    printf("[ figure ] %d captured short connections to %s in %.2f s (%.0f conn/s)\n",
           kConnections, destination, seconds, kConnections / seconds);
  }
  auto stats = program_->ReadWorkloadStats(kWorkloadId);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->captured, static_cast<uint64_t>(2 * kConnections));
  EXPECT_EQ(stats->errors, 0u);
  EXPECT_EQ(OrigDstSizeSettled(0), 0u);
}

TEST_F(CaptureLoadTest, ThreeRestartsUnderLoadDropNothingAndDuplicateNothing) {
  constexpr int kHeld = 200;
  // The pod: opens kHeld captured connections, then keeps opening short ones every
  // 10 ms until told to stop (a byte on `stop`), then checks every held one still
  // echoes. Reports "<failures> <short connections>".
  int stop[2];
  ASSERT_EQ(pipe(stop), 0);
  std::string result;
  std::thread pod([&] {
    auto out = RunInPod(*cgroup_, *netns_, [&] {
      close(stop[1]);
      std::vector<int> held;
      int failures = 0;
      for (int i = 0; i < kHeld; ++i) {
        socklen_t len;
        sockaddr_storage dst = Endpoint(i % 2 ? "10.99.0.7" : "fd99::7", 30000 + i, &len);
        int s = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        char buf[128];
        if (connect(s, reinterpret_cast<sockaddr*>(&dst), len) != 0 ||
            read(s, buf, sizeof(buf)) <= 0 || buf[0] != 'Z') {
          ++failures;
        }
        held.push_back(s);
      }
      int shorts = 0;
      pollfd pfd{stop[0], POLLIN, 0};
      while (poll(&pfd, 1, 10) == 0) {
        std::string got = ConnectAndRead("10.99.0.7", 8080);
        if (got != "Z 10.99.0.7:8080") ++failures;
        ++shorts;
      }
      for (int s : held) {
        char buf[8] = {};
        if (write(s, "ping", 4) != 4 || recv(s, buf, 4, MSG_WAITALL) != 4 ||
            std::string(buf) != "ping") {
          ++failures;
        }
        close(s);
      }
      return absl::StrCat(failures, " ", shorts);
    });
    result = out.ok() ? *out : out.status().ToString();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int restart = 0; restart < 3; ++restart) {
    program_.reset();  // as kill -9 leaves it
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_NO_FATAL_FAILURE(CreateProgram());
    EXPECT_TRUE(program_->reused_pinned_maps());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  close(stop[1]);
  pod.join();
  close(stop[0]);
  std::vector<std::string> parts = absl::StrSplit(result, ' ');
  ASSERT_EQ(parts.size(), 2u) << result;
  EXPECT_EQ(parts[0], "0") << "failed or reset connections";
  int shorts = 0;
  ASSERT_TRUE(absl::SimpleAtoi(parts[1], &shorts));
  EXPECT_GT(shorts, 20);
  for (bpf_attach_type type : {BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT,
                               BPF_CGROUP_SOCK_OPS, BPF_CGROUP_GETSOCKOPT}) {
    uint32_t ids[4], count = 4, flags = 0;
    ASSERT_EQ(bpf_prog_query(cgroup_->fd(), type, 0, &flags, ids, &count), 0);
    EXPECT_EQ(count, 1u) << "attach type " << type;
  }
  EXPECT_EQ(OrigDstSizeSettled(0), 0u);
}

}  // namespace
}  // namespace weft::capture_test
