// Real connects from a private pod netns + cgroup through the capture programs
// attached by CaptureProgram: what is captured, what ztunnel learns through
// SO_ORIGINAL_DST, what passes, and what survives an agent restart.
#include "agent/bpf/capture/capture_program.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <numeric>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/host/mount_table.h"
#include "gtest/gtest.h"
#include "tests/bpf/capture/capture_test_env.h"

namespace weft::capture_test {
namespace {

using weft::bpf::capture::CaptureOptions;
using weft::bpf::capture::CaptureProgram;
using weft::bpf::capture::CaptureWorkload;
using weft::bpf::capture::WorkloadStats;

constexpr uint32_t kWorkloadId = 7;

CaptureWorkload PodWorkload() {
  CaptureWorkload w;
  w.workload_id = kWorkloadId;
  in_addr v4;
  in6_addr v6;
  inet_pton(AF_INET, kPodIpv4, &v4);
  inet_pton(AF_INET6, kPodIpv6, &v6);
  w.pod_ipv4 = v4;
  w.pod_ipv6 = v6;
  return w;
}

// Programs attached at `cgroup_fd` for one attach type (bpf_prog_query).
int AttachedCount(int cgroup_fd, bpf_attach_type type) {
  uint32_t ids[16];
  uint32_t count = 16;
  uint32_t flags = 0;
  if (bpf_prog_query(cgroup_fd, type, 0, &flags, ids, &count) != 0) return -1;
  return static_cast<int>(count);
}

class CaptureProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> bpffs = weft::host::EnsureBpffsMounted();
    ASSERT_TRUE(bpffs.ok()) << bpffs.status();
    pin_dir_ = absl::StrCat(*bpffs, "/weft/test-", getpid());
    CaptureProgram::Uninstall(pin_dir_).IgnoreError();  // leftover of a crashed run

    auto cgroup = TestCgroup::Create("cg");
    ASSERT_TRUE(cgroup.ok()) << cgroup.status();
    cgroup_ = std::move(*cgroup);
    auto netns = TestNetns::Create("a");
    ASSERT_TRUE(netns.ok()) << netns.status();
    netns_ = std::move(*netns);
    ASSERT_NO_FATAL_FAILURE(CreateProgram());
    ASSERT_TRUE(program_->Enroll(netns_->cookie(), PodWorkload()).ok());
    ASSERT_TRUE(program_->SetExclusions({kExcludedPort}, {kExcludedCidr4, kExcludedCidr6}).ok());
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
    options.outbound_port = kOutboundPort;
    options.ztunnel_mark = kZtunnelMark;
    auto program = CaptureProgram::Create(options);
    ASSERT_TRUE(program.ok()) << program.status();
    program_ = std::move(*program);
  }

  std::string Connect(const std::string& ip, uint16_t port, uint32_t mark = 0,
                      const std::string& payload = "", const TestNetns* ns = nullptr) {
    auto out = RunInPod(*cgroup_, ns ? *ns : *netns_,
                        [&] { return ConnectAndRead(ip, port, mark, payload); });
    return out.ok() ? *out : "FAILED " + out.status().ToString();
  }

  WorkloadStats Stats() {
    auto stats = program_->ReadWorkloadStats(kWorkloadId);
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.ok() ? *stats : WorkloadStats{};
  }

  // orig_dst entries disappear when client sockets reach TCP_CLOSE, which happens
  // asynchronously after close(): poll for a while.
  size_t OrigDstSizeSettled(size_t want, int timeout_ms = 3000) {
    size_t size = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    do {
      auto entries = program_->DumpOrigDst();
      EXPECT_TRUE(entries.ok()) << entries.status();
      size = entries.ok() ? entries->size() : 0;
      if (size == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (std::chrono::steady_clock::now() < deadline);
    return size;
  }

  void ExpectOneProgramPerHook() {
    EXPECT_EQ(AttachedCount(cgroup_->fd(), BPF_CGROUP_INET4_CONNECT), 1);
    EXPECT_EQ(AttachedCount(cgroup_->fd(), BPF_CGROUP_INET6_CONNECT), 1);
    EXPECT_EQ(AttachedCount(cgroup_->fd(), BPF_CGROUP_SOCK_OPS), 1);
    EXPECT_EQ(AttachedCount(cgroup_->fd(), BPF_CGROUP_GETSOCKOPT), 1);
  }

  std::string pin_dir_;
  std::unique_ptr<TestCgroup> cgroup_;
  std::unique_ptr<TestNetns> netns_;
  std::unique_ptr<CaptureProgram> program_;
  std::unique_ptr<ZtunnelStandIn> ztunnel_;
};

TEST_F(CaptureProgramTest, CapturesIpv4WithExactOriginalDestination) {
  // Nothing exists at 10.99.0.7 (no route even): only capture can answer.
  EXPECT_EQ(Connect("10.99.0.7", 8080), "Z 10.99.0.7:8080");
  EXPECT_EQ(Connect("192.0.2.200", 443), "Z 192.0.2.200:443");
}

TEST_F(CaptureProgramTest, CapturesIpv6WithExactOriginalDestination) {
  EXPECT_EQ(Connect("fd99::7", 8080), "Z [fd99::7]:8080");
  EXPECT_EQ(Connect("2001:db8::1:2", 65535), "Z [2001:db8::1:2]:65535");
}

TEST_F(CaptureProgramTest, CapturesV4MappedDestinationOfDualStackSocket) {
  // Rewritten to ::ffff:127.1.x.y, accepted by the IPv4 listener, answered via SOL_IP.
  EXPECT_EQ(Connect("::ffff:10.99.0.7", 8080), "Z 10.99.0.7:8080");
}

// The address a captured IPv4 connect was sent to names its capture slot; the slot is
// believed only for that connection: another socket reaching the same address (here an
// application dialling it by hand, which capture leaves alone as loopback) gets nothing.
TEST_F(CaptureProgramTest, CaptureSlotAnswersOnlyTheConnectionThatTookIt) {
  EXPECT_EQ(Connect("10.99.0.7", 8080), "Z 10.99.0.7:8080");
  int fd = bpf_obj_get((pin_dir_ + "/maps/capture_slot_seq").c_str());
  ASSERT_GE(fd, 0) << strerror(errno);
  uint32_t key = 0;
  uint64_t taken = 0;
  ASSERT_EQ(bpf_map_lookup_elem(fd, &key, &taken), 0) << strerror(errno);
  close(fd);
  ASSERT_GE(taken, 1u);
  const uint32_t slot = static_cast<uint32_t>(taken - 1) % CAPTURE_SLOT_COUNT;
  in_addr address{htonl(CAPTURE_SLOT_NET | slot)};
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &address, text, sizeof(text));
  EXPECT_EQ(Connect(text, kOutboundPort), "Z none") << text;
  // An address no connect has taken yet: nothing either.
  in_addr unused{htonl(CAPTURE_SLOT_NET | ((slot + 100) % CAPTURE_SLOT_COUNT))};
  inet_ntop(AF_INET, &unused, text, sizeof(text));
  EXPECT_EQ(Connect(text, kOutboundPort), "Z none") << text;
  // And the next captured connect still gets its own answer.
  EXPECT_EQ(Connect("10.99.0.8", 8443), "Z 10.99.0.8:8443");
}

TEST_F(CaptureProgramTest, ExcludedDestinationsPassUntouched) {
  EXPECT_EQ(Connect("127.0.0.1", kAppPort), "A 127.0.0.1:9000");
  EXPECT_EQ(Connect("::1", kAppPort), "A [::1]:9000");
  EXPECT_EQ(Connect(kPodIpv4, kAppPort), "A 10.77.0.5:9000");
  EXPECT_EQ(Connect(kPodIpv6, kAppPort), "A [fd77::5]:9000");
  EXPECT_EQ(Connect(kOtherLocalIpv4, kExcludedPort), "A 10.66.0.3:9443");
  EXPECT_EQ(Connect(kOtherLocalIpv6, kExcludedPort), "A [fd66::3]:9443");
  EXPECT_EQ(Connect(kExcludedIpv4, kAppPort), "A 10.88.0.9:9000");
  EXPECT_EQ(Connect(kExcludedIpv6, kAppPort), "A [fd88::9]:9000");
  EXPECT_EQ(Connect(kOtherLocalIpv4, kAppPort, kZtunnelMark), "A 10.66.0.3:9000");
  EXPECT_EQ(Connect(kOtherLocalIpv6, kAppPort, kZtunnelMark), "A [fd66::3]:9000");
  // Control: the same destinations without the exclusion are captured.
  EXPECT_EQ(Connect(kOtherLocalIpv4, kAppPort), "Z 10.66.0.3:9000");
  EXPECT_EQ(Connect(kOtherLocalIpv6, kAppPort, kZtunnelMark + 1), "Z [fd66::3]:9000");

  WorkloadStats stats = Stats();
  EXPECT_EQ(stats.passed, 10u);
  EXPECT_EQ(stats.captured, 2u);
  EXPECT_EQ(stats.errors, 0u);
}

TEST_F(CaptureProgramTest, ReplacingExclusionsTakesEffectAndBadCidrChangesNothing) {
  auto bad = program_->SetExclusions({}, {"10.0.0.0/33"});
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Connect(kOtherLocalIpv4, kExcludedPort), "A 10.66.0.3:9443");
  ASSERT_TRUE(program_->SetExclusions({kAppPort}, {"10.66.0.0/24"}).ok());
  EXPECT_EQ(Connect(kExcludedIpv4, kExcludedPort), "Z 10.88.0.9:9443");
  EXPECT_EQ(Connect(kOtherLocalIpv6, kExcludedPort), "Z [fd66::3]:9443");
  EXPECT_EQ(Connect(kOtherLocalIpv4, kExcludedPort), "A 10.66.0.3:9443");
  EXPECT_EQ(Connect(kOtherLocalIpv6, kAppPort), "A [fd66::3]:9000");
}

TEST_F(CaptureProgramTest, UncapturedSocketGetsNoOriginalDestination) {
  // A direct (loopback, so not captured) connection to the outbound port: the
  // emulation must leave getsockopt's own failure alone.
  EXPECT_EQ(Connect("127.0.0.1", kOutboundPort), "Z none");
  EXPECT_EQ(Connect("::1", kOutboundPort), "Z none");
  // Other getsockopt calls in the cgroup see the kernel's answer, length included.
  auto out = RunInPod(*cgroup_, *netns_, [] {
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    int ttl = 0, v6only = -1;
    socklen_t ttl_len = 16, v6_len = sizeof(v6only);
    getsockopt(fd, SOL_IPV6, IPV6_UNICAST_HOPS, &ttl, &ttl_len);
    getsockopt(fd, SOL_IPV6, IPV6_V6ONLY, &v6only, &v6_len);
    sockaddr_in6 orig{};
    socklen_t orig_len = sizeof(orig);
    int rc = getsockopt(fd, SOL_IPV6, 80, &orig, &orig_len);
    return absl::StrCat("hops=", ttl, "/", ttl_len, " v6only=", v6only, " orig=", rc, "/",
                        orig_len);
  });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "hops=64/4 v6only=0 orig=-1/28");
}

TEST_F(CaptureProgramTest, UnenrolledNetnsIsNotCaptured) {
  auto other = TestNetns::Create("b");
  ASSERT_TRUE(other.ok()) << other.status();
  auto ztunnel = ZtunnelStandIn::Start(*cgroup_, **other);
  ASSERT_TRUE(ztunnel.ok()) << ztunnel.status();
  EXPECT_EQ(Connect("10.99.0.7", 8080, 0, "", other->get()), "ERR ENETUNREACH");
  EXPECT_EQ(Connect(kOtherLocalIpv4, kAppPort, 0, "", other->get()), "A 10.66.0.3:9000");
  // Same cgroup, enrolled netns: captured. The decision is per netns, not per cgroup.
  EXPECT_EQ(Connect(kOtherLocalIpv4, kAppPort), "Z 10.66.0.3:9000");
}

TEST_F(CaptureProgramTest, UnenrollStopsNewCapturesAndKeepsEstablished) {
  auto held = HeldConnection::Open(*cgroup_, *netns_, "10.99.0.7", 8080);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ((*held)->greeting(), "Z 10.99.0.7:8080");
  ASSERT_TRUE(program_->Unenroll(netns_->cookie()).ok());
  EXPECT_EQ(program_->Unenroll(netns_->cookie()).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Connect("10.99.0.7", 8080), "ERR ENETUNREACH");
  EXPECT_EQ(Connect(kOtherLocalIpv4, kAppPort), "A 10.66.0.3:9000");
  auto echoed = (*held)->EchoAndClose("still-here");
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "OK");
  ASSERT_TRUE(program_->Enroll(netns_->cookie(), PodWorkload()).ok());
  EXPECT_EQ(Connect("10.99.0.7", 8080), "Z 10.99.0.7:8080");
}

// The handshake time comes from TCP (first RTT sample plus the SYN backoff), not from a
// clock read in connect(): a connect whose first SYN the listener dropped (its accept
// queue was full) lands in the ~1 s bucket, the one before it in microseconds.
TEST_F(CaptureProgramTest, RetransmittedSynIsTimedWithItsBackoff) {
  const WorkloadStats before = Stats();
  auto out = RunInPod(*cgroup_, *netns_, [] {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(9100);
    inet_pton(AF_INET, kPodIpv4, &addr.sin_addr);
    const auto* sa = reinterpret_cast<const sockaddr*>(&addr);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    // Backlog 0: one connection waits in the accept queue, the next SYN is dropped.
    if (bind(listener, sa, sizeof(addr)) != 0 || listen(listener, 0) != 0) return std::string("listen");
    int first = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(first, sa, sizeof(addr)) != 0) return std::string("first connect");
    std::thread acceptor([listener] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      for (int i = 0; i < 2; ++i) {
        int c = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) close(c);
      }
    });
    int second = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const auto start = std::chrono::steady_clock::now();
    const int rc = connect(second, sa, sizeof(addr));
    const auto took = std::chrono::steady_clock::now() - start;
    acceptor.join();
    close(first);
    close(second);
    close(listener);
    if (rc != 0) return std::string("second connect");
    // The test's premise: the second SYN really was retransmitted.
    if (took < std::chrono::milliseconds(500)) return std::string("no retransmission");
    return std::string();
  });
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(*out, "");
  const WorkloadStats after = Stats();
  uint64_t fast = 0, backed_off = 0, other = 0;
  for (int i = 0; i < CAPTURE_HIST_BUCKETS; ++i) {
    const uint64_t n = after.connect_latency_ns[i] - before.connect_latency_ns[i];
    if (i >= 6 && i < 24) {  // 64 ns .. 16 ms
      fast += n;
    } else if (i == 29 || i == 30) {  // 0.54 .. 2.1 s: 1 s of backoff plus the round trip
      backed_off += n;
    } else {
      other += n;
    }
  }
  EXPECT_EQ(fast, 1u);
  EXPECT_EQ(backed_off, 1u);
  EXPECT_EQ(other, 0u);
}

TEST_F(CaptureProgramTest, CountsDecisionsAndFillsHistograms) {
  constexpr int kCaptured = 20;
  constexpr int kPassed = 5;
  auto out = RunInPod(*cgroup_, *netns_, [&] {
    std::string bad;
    for (int i = 0; i < kCaptured; ++i) {
      std::string got = ConnectAndRead("10.99.0.7", 8080, 0, "ping-pong-payload");
      if (got != "ECHO-MISMATCH" && got.rfind("Z 10.99.0.7", 0) == 0) continue;
      bad += got + ";";
    }
    for (int i = 0; i < kPassed; ++i) {
      if (ConnectAndRead(kPodIpv4, kAppPort, 0, "x").rfind("A ", 0) != 0) bad += "pass;";
    }
    return bad;
  });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "");
  WorkloadStats stats = Stats();
  EXPECT_EQ(stats.captured, static_cast<uint64_t>(kCaptured));
  EXPECT_EQ(stats.passed, static_cast<uint64_t>(kPassed));
  EXPECT_EQ(stats.denied, 0u);
  uint64_t latencies =
      std::accumulate(stats.connect_latency_ns.begin(), stats.connect_latency_ns.end(), 0ull);
  EXPECT_EQ(latencies, static_cast<uint64_t>(kCaptured + kPassed));
  // A loopback handshake takes microseconds, not under 64 ns nor over a second.
  uint64_t implausible = 0;
  for (int i = 0; i < 6; ++i) implausible += stats.connect_latency_ns[i];
  for (int i = 30; i < CAPTURE_HIST_BUCKETS; ++i) implausible += stats.connect_latency_ns[i];
  EXPECT_EQ(implausible, 0u);
  uint64_t rtts = std::accumulate(stats.srtt_us.begin(), stats.srtt_us.end(), 0ull);
  EXPECT_GE(rtts, static_cast<uint64_t>(kCaptured));
  // Another workload id saw nothing.
  auto other = program_->ReadWorkloadStats(kWorkloadId + 1);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->captured + other->passed, 0u);
  EXPECT_FALSE(program_->ReadWorkloadStats(CAPTURE_MAX_WORKLOADS).ok());
}

TEST_F(CaptureProgramTest, OrigDstEntryLivesExactlyAsLongAsTheClientSocket) {
  EXPECT_EQ(OrigDstSizeSettled(0), 0u);
  auto held = HeldConnection::Open(*cgroup_, *netns_, "fd99::7", 8080);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ((*held)->greeting(), "Z [fd99::7]:8080");
  auto entries = program_->DumpOrigDst();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].original_dst, "[fd99::7]:8080");
  EXPECT_EQ((*entries)[0].netns_cookie, netns_->cookie());
  EXPECT_EQ((*entries)[0].workload_id, kWorkloadId);
  EXPECT_EQ((*entries)[0].client.rfind("[::1]:", 0), 0u) << (*entries)[0].client;
  auto echoed = (*held)->EchoAndClose("bye");
  ASSERT_TRUE(echoed.ok());
  EXPECT_EQ(*echoed, "OK");
  for (int i = 0; i < 50; ++i) Connect("10.99.0.7", static_cast<uint16_t>(1000 + i));
  EXPECT_EQ(OrigDstSizeSettled(0), 0u);
}

TEST_F(CaptureProgramTest, ClientClosingBeforeZtunnelAcceptsStillHasOriginalDestination) {
  ztunnel_.reset();
  auto slow = ZtunnelStandIn::Start(*cgroup_, *netns_, /*accept_delay_ms=*/400);
  ASSERT_TRUE(slow.ok()) << slow.status();
  for (const char* dst : {"10.99.0.7", "fd99::7"}) {
    auto out = RunInPod(*cgroup_, *netns_, [dst] {
      socklen_t len;
      sockaddr_storage addr = Endpoint(dst, 8080, &len);
      int fd = socket(addr.ss_family, SOCK_STREAM, 0);
      bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
                write(fd, "fire-and-forget", 15) == 15;
      std::string result = ok ? "sent" : absl::StrCat("failed ", strerrorname_np(errno));
      close(fd);  // orphaned: reaches TCP_CLOSE without waiting for ztunnel
      return result;
    });
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(*out, "sent");
    // The client's entry is gone before ztunnel accepts: the race is real.
    EXPECT_EQ(OrigDstSizeSettled(0, 300), 0u);
    auto report = (*slow)->NextReport();
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(*report, absl::StrCat("Z ", std::string(dst).find(':') == std::string::npos
                                              ? absl::StrCat(dst, ":8080")
                                              : absl::StrCat("[", dst, "]:8080")));
  }
}

TEST_F(CaptureProgramTest, RestartReusesPinsWithoutDuplicatesAndKeepsConnections) {
  ExpectOneProgramPerHook();
  auto held = HeldConnection::Open(*cgroup_, *netns_, "10.99.0.7", 8080);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ((*held)->greeting(), "Z 10.99.0.7:8080");
  EXPECT_FALSE(program_->reused_pinned_maps());

  for (int restart = 0; restart < 3; ++restart) {
    program_.reset();  // what kill -9 leaves: pins, no Uninstall
    ExpectOneProgramPerHook();
    EXPECT_EQ(Connect("10.99.0.7", 8081), "Z 10.99.0.7:8081") << "captured while agent is down";
    ASSERT_NO_FATAL_FAILURE(CreateProgram());
    EXPECT_TRUE(program_->reused_pinned_maps());
    ExpectOneProgramPerHook();
    // No Enroll/SetExclusions after restart: the state lives in the pinned maps.
    EXPECT_EQ(Connect("10.99.0.7", 8082), "Z 10.99.0.7:8082");
    EXPECT_EQ(Connect(kOtherLocalIpv4, kExcludedPort), "A 10.66.0.3:9443");
  }
  EXPECT_EQ(Stats().captured, 7u);  // 1 held + 3 x 2, counted across restarts
  auto echoed = (*held)->EchoAndClose("after-restarts");
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "OK");
  // The socket storage of the held connection survived too: its close still cleans up.
  EXPECT_EQ(OrigDstSizeSettled(0), 0u);
}

TEST_F(CaptureProgramTest, OtherLayoutVersionRecreatesMapsButKeepsOneProgramPerHook) {
  EXPECT_EQ(Connect("10.99.0.7", 8080), "Z 10.99.0.7:8080");
  program_.reset();
  // Pretend the pins were made by an agent with another layout (a test-only write to
  // the pinned settings map; the agent itself goes through the skeleton).
  int fd = bpf_obj_get((pin_dir_ + "/maps/capture_settings").c_str());
  ASSERT_GE(fd, 0) << strerror(errno);
  capture_settings settings{};
  settings.layout_version = CAPTURE_LAYOUT_VERSION + 1;
  uint32_t key = 0;
  ASSERT_EQ(bpf_map_update_elem(fd, &key, &settings, BPF_ANY), 0);
  close(fd);
  // Meanwhile the old programs see a layout they do not know: they capture nothing.
  EXPECT_EQ(Connect("10.99.0.7", 8080), "ERR ENETUNREACH");
  ASSERT_NO_FATAL_FAILURE(CreateProgram());
  EXPECT_FALSE(program_->reused_pinned_maps());
  ExpectOneProgramPerHook();
  EXPECT_EQ(Connect("10.99.0.7", 8080), "ERR ENETUNREACH") << "fresh maps: nothing enrolled";
  ASSERT_TRUE(program_->Enroll(netns_->cookie(), PodWorkload()).ok());
  EXPECT_EQ(Connect("10.99.0.7", 8080), "Z 10.99.0.7:8080");
}

TEST_F(CaptureProgramTest, GetsockoptAnswersInZtunnelsOwnCgroup) {
  // ztunnel usually runs outside the pods' cgroup root: getsockopt attaches there.
  auto zt_cgroup = TestCgroup::Create("zt");
  ASSERT_TRUE(zt_cgroup.ok()) << zt_cgroup.status();
  ztunnel_.reset();
  program_.reset();
  ASSERT_TRUE(CaptureProgram::Uninstall(pin_dir_).ok());
  CaptureOptions options;
  options.cgroup_root = cgroup_->path();
  options.getsockopt_cgroup = (*zt_cgroup)->path();
  options.pin_dir = pin_dir_;
  auto program = CaptureProgram::Create(options);
  ASSERT_TRUE(program.ok()) << program.status();
  program_ = std::move(*program);
  ASSERT_TRUE(program_->Enroll(netns_->cookie(), PodWorkload()).ok());
  EXPECT_EQ(AttachedCount(cgroup_->fd(), BPF_CGROUP_GETSOCKOPT), 0);
  EXPECT_EQ(AttachedCount((*zt_cgroup)->fd(), BPF_CGROUP_GETSOCKOPT), 1);
  EXPECT_EQ(AttachedCount(cgroup_->fd(), BPF_CGROUP_INET4_CONNECT), 1);
  EXPECT_EQ(AttachedCount(cgroup_->fd(), BPF_CGROUP_SOCK_OPS), 1);
  EXPECT_EQ(AttachedCount((*zt_cgroup)->fd(), BPF_CGROUP_SOCK_OPS), 1);
  {
    auto ztunnel = ZtunnelStandIn::Start(**zt_cgroup, *netns_);
    ASSERT_TRUE(ztunnel.ok()) << ztunnel.status();
    EXPECT_EQ(Connect("10.99.0.7", 8080), "Z 10.99.0.7:8080");
    EXPECT_EQ(Connect("fd99::7", 8080), "Z [fd99::7]:8080");
  }
  // A ztunnel in the pods' cgroup no longer gets answers: getsockopt is not there.
  auto ztunnel = ZtunnelStandIn::Start(*cgroup_, *netns_);
  ASSERT_TRUE(ztunnel.ok()) << ztunnel.status();
  EXPECT_EQ(Connect("10.99.0.7", 8080), "Z none");
  ztunnel->reset();
  program_.reset();
  ASSERT_TRUE(CaptureProgram::Uninstall(pin_dir_).ok());
  EXPECT_EQ(AttachedCount((*zt_cgroup)->fd(), BPF_CGROUP_GETSOCKOPT), 0);
  EXPECT_EQ(AttachedCount((*zt_cgroup)->fd(), BPF_CGROUP_SOCK_OPS), 0);
}

TEST_F(CaptureProgramTest, UninstallRemovesEveryPinAndDetaches) {
  program_.reset();
  ASSERT_TRUE(CaptureProgram::Uninstall(pin_dir_).ok());
  struct stat st;
  EXPECT_NE(stat(pin_dir_.c_str(), &st), 0) << pin_dir_ << " still exists";
  EXPECT_EQ(AttachedCount(cgroup_->fd(), BPF_CGROUP_INET4_CONNECT), 0);
  EXPECT_EQ(AttachedCount(cgroup_->fd(), BPF_CGROUP_INET6_CONNECT), 0);
  EXPECT_EQ(AttachedCount(cgroup_->fd(), BPF_CGROUP_SOCK_OPS), 0);
  EXPECT_EQ(AttachedCount(cgroup_->fd(), BPF_CGROUP_GETSOCKOPT), 0);
  EXPECT_EQ(Connect("10.99.0.7", 8080), "ERR ENETUNREACH");
  // Uninstall is idempotent; a fresh Create starts with empty state.
  ASSERT_TRUE(CaptureProgram::Uninstall(pin_dir_).ok());
  ASSERT_NO_FATAL_FAILURE(CreateProgram());
  EXPECT_FALSE(program_->reused_pinned_maps());
  EXPECT_EQ(Connect("10.99.0.7", 8080), "ERR ENETUNREACH");  // nothing enrolled
}

}  // namespace
}  // namespace weft::capture_test
