// The loopback short-circuit on real sockets: a client/server pair over 127.0.0.1 in
// a netns and a cgroup the test creates, with the short-circuit on and off. Prints the
// throughput of both (a figure, not asserted).
#include "agent/bpf/inbound/loopback_short_circuit.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/host/netns.h"
#include "common/host/mount_table.h"
#include "gtest/gtest.h"
#include "tests/bpf/inbound/test_netns.h"

namespace weft::bpf {
namespace {

using testing::Accept;
using testing::Connect;
using testing::Listen;
using testing::LocalAddr;
using testing::TestNetns;
using testing::TestPinDir;
using testing::UniqueName;

constexpr size_t kTransferBytes = 64 << 20;

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.flush();
  return f.good();
}

uint16_t Port(const sockaddr_storage& a) {
  return ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port);
}

shortcircuit_sock_key LoopbackKey(uint64_t cookie, uint16_t local_port, uint16_t remote_port) {
  shortcircuit_sock_key k{};
  k.netns_cookie = cookie;
  k.local_ip[2] = k.remote_ip[2] = htonl(0xffff);
  k.local_ip[3] = k.remote_ip[3] = htonl(0x7f000001);
  k.local_port = local_port;
  k.remote_port = remote_port;
  return k;
}

bool operator==(const shortcircuit_sock_key& a, const shortcircuit_sock_key& b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

// Sends `bytes` of a position-dependent pattern from `from` to `to` and checks every
// byte on arrival. Returns MiB/s, or a negative value when the data was not intact.
double Transfer(int from, int to, size_t bytes) {
  timeval timeout{10, 0};  // a stuck redirect fails the test instead of hanging it
  setsockopt(from, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  setsockopt(to, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  // Byte i of the stream is i % 251, so a chunk at offset o is pattern[o % 251...].
  constexpr size_t kChunk = 256 << 10;
  std::vector<uint8_t> pattern(kChunk + 251);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i % 251);
  const auto start = std::chrono::steady_clock::now();
  std::thread writer([&] {
    for (size_t sent = 0; sent < bytes;) {
      size_t n = std::min(kChunk, bytes - sent);
      ssize_t w = send(from, pattern.data() + sent % 251, n, MSG_NOSIGNAL);
      if (w <= 0) return;
      sent += static_cast<size_t>(w);
    }
  });
  std::vector<uint8_t> buf(kChunk);
  size_t received = 0;
  bool intact = true;
  while (received < bytes) {
    ssize_t r = recv(to, buf.data(), std::min(buf.size(), bytes - received), 0);
    if (r <= 0) break;
    intact = intact &&
             std::memcmp(buf.data(), pattern.data() + received % 251, static_cast<size_t>(r)) == 0;
    received += static_cast<size_t>(r);
  }
  writer.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(received, bytes);
  EXPECT_TRUE(intact) << "corrupted stream";
  if (received != bytes || !intact) return -1;
  return static_cast<double>(bytes) / (1 << 20) / secs;
}

class LoopbackShortCircuitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ns = TestNetns::Create("sc");
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = std::move(*ns);
    auto cookie = host::NetnsCookieOf(ns_->fd());
    ASSERT_TRUE(cookie.ok()) << cookie.status();
    cookie_ = *cookie;

    auto mount = host::Cgroup2MountPoint();
    ASSERT_TRUE(mount.ok()) << mount.status();
    std::ifstream self("/proc/self/cgroup");
    std::string line, current = "/";
    while (std::getline(self, line)) {
      if (line.starts_with("0::")) current = line.substr(3);
    }
    home_cgroup_ = *mount + (current == "/" ? "" : current);
    cgroup_ = home_cgroup_ + "/" + UniqueName("cg");
    ASSERT_EQ(mkdir(cgroup_.c_str(), 0755), 0) << cgroup_ << ": " << std::strerror(errno);
    // Sockets belong to the cgroup of the process that creates them.
    ASSERT_TRUE(WriteFile(cgroup_ + "/cgroup.procs", std::to_string(getpid())));
  }

  void TearDown() override {
    sc_.reset();
    LoopbackShortCircuit::Uninstall(pins_.path()).IgnoreError();
    if (!cgroup_.empty()) {
      WriteFile(home_cgroup_ + "/cgroup.procs", std::to_string(getpid()));
      rmdir(cgroup_.c_str());
    }
    if (!ztunnel_cgroup_.empty()) rmdir(ztunnel_cgroup_.c_str());
  }

  // A sibling of cgroup_, as ztunnel's cgroup is a sibling of the pods' in the lab.
  void MakeZtunnelCgroup() {
    ztunnel_cgroup_ = home_cgroup_ + "/" + UniqueName("zt");
    ASSERT_EQ(mkdir(ztunnel_cgroup_.c_str(), 0755), 0) << std::strerror(errno);
  }

  void Load(bool enabled, const std::string& ztunnel_cgroup = "") {
    auto sc = LoopbackShortCircuit::Create({.pin_dir = pins_.path(),
                                            .cgroup_path = cgroup_,
                                            .ztunnel_cgroup = ztunnel_cgroup,
                                            .enabled = enabled});
    ASSERT_TRUE(sc.ok()) << sc.status();
    sc_ = std::move(*sc);
    ASSERT_TRUE(sc_->Enroll(cookie_).ok());
  }

  // A connected pair over 127.0.0.1 inside `ns`: {client, server}.
  std::pair<int, int> Pair(const TestNetns* ns) {
    auto listener = Listen(ns, "127.0.0.1", 0);
    EXPECT_TRUE(listener.ok()) << listener.status();
    if (!listener.ok()) return {-1, -1};
    auto client = Connect(ns, LocalAddr(*listener), 2000);
    EXPECT_TRUE(client.ok()) << client.status();
    auto server = Accept(*listener, 2000);
    EXPECT_TRUE(server.ok()) << server.status();
    close(*listener);
    return {client.ok() ? *client : -1, server.ok() ? *server : -1};
  }

  std::vector<shortcircuit_sock_key> Tracked() {
    std::vector<shortcircuit_sock_key> keys;
    for (const auto& k : sc_->Sockets()) {
      if (k.netns_cookie == cookie_) keys.push_back(k);
    }
    return keys;
  }

  uint64_t Redirected() {
    auto stats = sc_->Stats();
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.ok() ? stats->redirected : 0;
  }

  TestPinDir pins_;
  std::unique_ptr<TestNetns> ns_;
  uint64_t cookie_ = 0;
  std::string home_cgroup_;
  std::string cgroup_;
  std::string ztunnel_cgroup_;
  std::unique_ptr<LoopbackShortCircuit> sc_;
};

TEST_F(LoopbackShortCircuitTest, OnMovesBytesPeerToPeerAndForgetsClosedSockets) {
  ASSERT_NO_FATAL_FAILURE(Load(true));
  auto [client, server] = Pair(ns_.get());
  ASSERT_GE(client, 0);
  ASSERT_GE(server, 0);
  const uint16_t cport = Port(LocalAddr(client)), sport = Port(LocalAddr(server));
  auto tracked = Tracked();
  ASSERT_EQ(tracked.size(), 2u);
  EXPECT_TRUE((tracked[0] == LoopbackKey(cookie_, cport, sport) &&
               tracked[1] == LoopbackKey(cookie_, sport, cport)) ||
              (tracked[1] == LoopbackKey(cookie_, cport, sport) &&
               tracked[0] == LoopbackKey(cookie_, sport, cport)))
      << "keys must be the two ends' (local, remote) tuples";

  const uint64_t before = Redirected();
  const double mibs = Transfer(client, server, kTransferBytes);
  EXPECT_GT(Transfer(server, client, 1 << 20), 0) << "reverse direction";
  EXPECT_GT(Redirected(), before) << "sends did not take the short-circuit";
  std::printf("short-circuit ON : 64 MiB in-netns loopback: %.0f MiB/s\n", mibs);
  RecordProperty("mib_per_s_on", static_cast<int>(mibs));

  close(client);
  close(server);
  EXPECT_TRUE(Tracked().empty()) << "closed sockets must leave the sockhash";
}

// The lab's layout: the app in a pod cgroup below the attach point, ztunnel in its own
// cgroup outside it. Both ends must be in the SOCKHASH for a send to be redirected.
TEST_F(LoopbackShortCircuitTest, ReachesAZtunnelInADisjointCgroup) {
  ASSERT_NO_FATAL_FAILURE(MakeZtunnelCgroup());
  for (bool with_ztunnel_cgroup : {false, true}) {
    SCOPED_TRACE(with_ztunnel_cgroup ? "ztunnel_cgroup set" : "ztunnel_cgroup empty");
    ASSERT_NO_FATAL_FAILURE(Load(true, with_ztunnel_cgroup ? ztunnel_cgroup_ : ""));
    // The "ztunnel" listens from its cgroup (accepted sockets take the listener's), the
    // "app" connects from the pod cgroup.
    ASSERT_TRUE(WriteFile(ztunnel_cgroup_ + "/cgroup.procs", std::to_string(getpid())));
    auto listener = Listen(ns_.get(), "127.0.0.1", 0);
    ASSERT_TRUE(WriteFile(cgroup_ + "/cgroup.procs", std::to_string(getpid())));
    ASSERT_TRUE(listener.ok()) << listener.status();
    auto client = Connect(ns_.get(), LocalAddr(*listener), 2000);
    ASSERT_TRUE(client.ok()) << client.status();
    auto server = Accept(*listener, 2000);
    ASSERT_TRUE(server.ok()) << server.status();
    close(*listener);
    EXPECT_EQ(Tracked().size(), with_ztunnel_cgroup ? 2u : 1u);
    const uint64_t before = Redirected();
    EXPECT_GT(Transfer(*client, *server, 1 << 20), 0);
    if (with_ztunnel_cgroup) {
      EXPECT_GT(Redirected(), before) << "app -> ztunnel sends were not short-circuited";
    } else {
      EXPECT_EQ(Redirected(), before);
    }
    close(*client);
    close(*server);
    sc_.reset();
  }
  // Turning it off removes the ztunnel cgroup's link too.
  ASSERT_NO_FATAL_FAILURE(Load(false, ztunnel_cgroup_));
  EXPECT_NE(access((pins_.path() + "/shortcircuit/sockops").c_str(), F_OK), 0);
  EXPECT_NE(access((pins_.path() + "/shortcircuit/sockops_ztunnel").c_str(), F_OK), 0);
}

TEST_F(LoopbackShortCircuitTest, OffLeavesLoopbackOnTcp) {
  ASSERT_NO_FATAL_FAILURE(Load(false));
  auto [client, server] = Pair(ns_.get());
  ASSERT_GE(client, 0);
  ASSERT_GE(server, 0);
  EXPECT_TRUE(Tracked().empty());
  const uint64_t before = Redirected();
  const double mibs = Transfer(client, server, kTransferBytes);
  EXPECT_GT(mibs, 0);
  EXPECT_EQ(Redirected(), before);
  std::printf("short-circuit OFF: 64 MiB in-netns loopback: %.0f MiB/s\n", mibs);
  RecordProperty("mib_per_s_off", static_cast<int>(mibs));
  close(client);
  close(server);
}

TEST_F(LoopbackShortCircuitTest, UnenrolledNetnsIsNotTouched) {
  ASSERT_NO_FATAL_FAILURE(Load(true));
  auto other = TestNetns::Create("sc-other");
  ASSERT_TRUE(other.ok()) << other.status();
  auto [client, server] = Pair(other.value().get());
  ASSERT_GE(client, 0);
  ASSERT_GE(server, 0);
  EXPECT_TRUE(sc_->Sockets().empty()) << "a socket of an unenrolled netns was tracked";
  EXPECT_GT(Transfer(client, server, 1 << 20), 0);
  close(client);
  close(server);
}

TEST_F(LoopbackShortCircuitTest, SwitchingOffAtRuntimeKeepsConnectionsWorking) {
  ASSERT_NO_FATAL_FAILURE(Load(true));
  auto [client, server] = Pair(ns_.get());
  ASSERT_GE(client, 0);
  ASSERT_GE(server, 0);
  ASSERT_EQ(Tracked().size(), 2u);
  EXPECT_GT(Transfer(client, server, 4 << 20), 0);

  ASSERT_TRUE(sc_->SetEnabled(false).ok());
  EXPECT_FALSE(sc_->enabled());
  EXPECT_TRUE(Tracked().empty()) << "disabling must return sockets to TCP";
  EXPECT_GT(Transfer(client, server, 4 << 20), 0) << "connection broken by disabling";
  EXPECT_GT(Transfer(server, client, 1 << 20), 0);
  close(client);
  close(server);

  // A restarted agent adopts the pinned link instead of attaching a second one.
  ASSERT_TRUE(sc_->SetEnabled(true).ok());
  sc_.reset();
  ASSERT_NO_FATAL_FAILURE(Load(true));
  auto [c2, s2] = Pair(ns_.get());
  EXPECT_EQ(Tracked().size(), 2u);
  EXPECT_GT(Transfer(c2, s2, 4 << 20), 0);
  close(c2);
  close(s2);
}

}  // namespace
}  // namespace weft::bpf
