// Runs the real tracer on loopback: the test process is the client, a forked child the
// echo server, told apart by tgid. Needs root.
#include "bench/hoptrace/hop_tracer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace weft::hoptrace {
namespace {

constexpr size_t kMessageBytes = 1024;
constexpr int kRoundTrips = 200;

bool ReadFull(int fd, char* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = read(fd, buf + done, n - done);
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

bool WriteFull(int fd, const char* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t w = write(fd, buf + done, n - done);
    if (w <= 0) return false;
    done += static_cast<size_t>(w);
  }
  return true;
}

// The child: accept one connection, echo 1 KiB messages until EOF.
[[noreturn]] void ServeEcho(int listener) {
  const int conn = accept(listener, nullptr, nullptr);
  char buf[kMessageBytes];
  while (conn >= 0 && ReadFull(conn, buf, sizeof(buf)) && WriteFull(conn, buf, sizeof(buf))) {
  }
  _exit(0);
}

class HopTracerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Label bpf: CI runs these as root. Without root the test fails rather than skips,
    // so a missing capability never passes as green.
    ASSERT_EQ(geteuid(), 0u) << "needs root (CAP_BPF, CAP_PERFMON)";
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(listener_, 1), 0);
    socklen_t len = sizeof(addr_);
    ASSERT_EQ(getsockname(listener_, reinterpret_cast<sockaddr*>(&addr_), &len), 0);
    server_pid_ = fork();
    ASSERT_GE(server_pid_, 0);
    if (server_pid_ == 0) ServeEcho(listener_);
  }

  void TearDown() override {
    if (server_pid_ > 0) {
      kill(server_pid_, SIGKILL);
      waitpid(server_pid_, nullptr, 0);
    }
    if (listener_ >= 0) close(listener_);
  }

  int listener_ = -1;
  sockaddr_in addr_{};
  pid_t server_pid_ = -1;
};

TEST_F(HopTracerTest, AssemblesEveryLoopbackRoundTripOnTheFourStagePath) {
  absl::StatusOr<uint64_t> netns = NetnsInodeOf("/proc/self/ns/net");
  ASSERT_TRUE(netns.ok()) << netns.status();
  HopTraceSpec spec;
  spec.participants = {
      {"client", {static_cast<uint32_t>(getpid())}, {}, *netns},
      {"server", {static_cast<uint32_t>(server_pid_)}, {}, *netns},
  };
  absl::StatusOr<std::unique_ptr<HopTracer>> tracer = HopTracer::Start(spec);
  ASSERT_TRUE(tracer.ok()) << tracer.status();

  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_)), 0);
  std::vector<char> buf(kMessageBytes, 'x');
  for (int i = 0; i < kRoundTrips; ++i) {
    ASSERT_TRUE(WriteFull(fd, buf.data(), buf.size()));
    ASSERT_TRUE(ReadFull(fd, buf.data(), buf.size()));
  }
  close(fd);
  const HopReport report = (*tracer)->Stop();

  EXPECT_EQ(report.round_trips, static_cast<uint64_t>(kRoundTrips));
  EXPECT_EQ(report.irregular, 0u);
  EXPECT_EQ(report.overlapping, 0u);
  EXPECT_EQ(report.lost_events, 0u);
  ASSERT_EQ(report.path.size(), 4u);
  EXPECT_EQ(report.path[0], "client send");
  EXPECT_EQ(report.path[1], "server recv");
  EXPECT_EQ(report.path[2], "server send");
  EXPECT_EQ(report.path[3], "client recv");
  ASSERT_EQ(report.hops.size(), 3u);
  double hop_sum = 0;
  for (const HopStats& hop : report.hops) {
    EXPECT_EQ(hop.count, static_cast<uint64_t>(kRoundTrips)) << hop.name;
    EXPECT_GT(hop.p50_us, 0.0) << hop.name;
    hop_sum += hop.mean_us;
  }
  // The hops tile the round trip: their means add up to the total's.
  EXPECT_NEAR(hop_sum, report.total.mean_us, report.total.mean_us * 0.01);
  // Loopback sockets have a (tiny) smoothed RTT once data has been acknowledged.
  EXPECT_FALSE(report.srtt.empty());
}

TEST_F(HopTracerTest, EventsOfOtherNetnsAreDroppedInTheKernel) {
  HopTraceSpec spec;
  // A netns inode nobody has: every event is filtered out.
  spec.participants = {
      {"client", {static_cast<uint32_t>(getpid())}, {}, 1},
      {"server", {static_cast<uint32_t>(server_pid_)}, {}, 1},
  };
  absl::StatusOr<std::unique_ptr<HopTracer>> tracer = HopTracer::Start(spec);
  ASSERT_TRUE(tracer.ok()) << tracer.status();
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_)), 0);
  std::vector<char> buf(kMessageBytes, 'x');
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(WriteFull(fd, buf.data(), buf.size()));
    ASSERT_TRUE(ReadFull(fd, buf.data(), buf.size()));
  }
  close(fd);
  const HopReport report = (*tracer)->Stop();
  EXPECT_EQ(report.round_trips, 0u);
  EXPECT_TRUE(report.srtt.empty());
}

}  // namespace
}  // namespace weft::hoptrace
