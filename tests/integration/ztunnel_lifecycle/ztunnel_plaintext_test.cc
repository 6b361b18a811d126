// Plaintext inbound through ztunnel's 15006 listener: a client outside the mesh (a process
// in node-a's own netns, not in any pod) connects to demo/server's pod IP. The kernel's
// sk_lookup steers the connection to ztunnel (PERMISSIVE), which relays it to the app and
// logs it as plaintext; once a STRICT PeerAuthentication is applied, the same connect is
// refused in the kernel. Also after ztunnel restarts: the restarted ztunnel's new 15006
// listener is the one the kernel steers to.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/agent/agent_lab_fixture.h"
#include "tests/integration/lab/lab_test_support.h"
#include "tests/integration/ztunnel_lifecycle/ztunnel_lab_support.h"

namespace weft::agent::testing {
namespace {

using weft::lab::testing::ProcessAlive;
using weft::lab::testing::WaitUntil;

constexpr char kStrict[] = R"(peer_authentications:
  - name: strict
    namespace: demo
    mode: STRICT
)";
constexpr char kPermissive[] = R"(peer_authentications:
  - name: strict
    namespace: demo
    mode: PERMISSIVE
)";

// Connects from the netns `netns` (a socket made there by this test process, outside any
// pod cgroup) and reads the server's banner line: "server", or "err <errno>".
std::string ProbeFrom(const std::string& netns, const std::string& ip, uint16_t port) {
  int fd = weft::lab::testing::SocketInNetns(netns, SOCK_STREAM);
  if (fd < 0) return "err socket";
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno == EINPROGRESS ? ETIMEDOUT : errno;
    ::close(fd);
    return "err " + std::to_string(err);
  }
  std::string line;
  char c;
  while (line.size() < 64 && ::recv(fd, &c, 1, 0) == 1 && c != '\n') line += c;
  ::close(fd);
  return line.empty() ? "err eof" : line;
}

// ProbeFrom until it answers `want`, for at most `timeout_ms`; the last answer.
std::string PollFrom(const std::string& netns, const std::string& want, int timeout_ms) {
  std::string last;
  WaitUntil(
      [&] {
        last = ProbeFrom(netns, "10.244.1.2", 8080);
        return last == want;
      },
      timeout_ms);
  return last;
}

TEST_F(AgentLabTest, PlaintextInboundIsRelayedWhenPermissiveAndDroppedWhenStrict) {
  ASSERT_NO_FATAL_FAILURE(StartTwoNodeLab("zpln"));
  auto server = StartEchoServer(Placement("server", false), {8080});
  ASSERT_NE(server, nullptr);
  // Outside the mesh: node-a's netns, no pod cgroup, so nothing captures its connects.
  const std::string outside = Node("node-a").netns();
  // The server pod must be enrolled (ztunnel acked, sk_lookup attached) before it counts.
  ASSERT_TRUE(WaitUntil([&] { return AgentGet("node-b", "/debug/workloads").find("10.244.1.2") !=
                                     std::string::npos; },
                        10000));
  const int inbound_before = CountInZtunnelLog(lab_, "node-b", "\"security\":\"none\"");
  const std::string relayed = PollFrom(outside, "server", 10000);
  ASSERT_EQ(relayed, "server") << "plaintext from outside the mesh never reached demo/server";
  ASSERT_TRUE(WaitUntil(
      [&] { return CountInZtunnelLog(lab_, "node-b", "\"security\":\"none\"") > inbound_before; },
      5000))
      << "node-b's ztunnel did not relay (log) the plaintext connection";

  ASSERT_NO_FATAL_FAILURE(ApplyConfig(kStrict));
  // sk_lookup's SK_DROP fails the listener lookup: the SYN is answered with a reset.
  EXPECT_EQ(PollFrom(outside, "err " + std::to_string(ECONNREFUSED), 15000),
            "err " + std::to_string(ECONNREFUSED))
      << "STRICT did not refuse plaintext";

  ASSERT_NO_FATAL_FAILURE(ApplyConfig(kPermissive));
  ASSERT_EQ(PollFrom(outside, "server", 10000), "server")
      << "PERMISSIVE again, but plaintext still refused";

  // A restarted ztunnel hands the agent its new 15006 listener; steering follows it.
  const pid_t old_pid = ZtunnelPid(lab_, "node-b");
  ASSERT_EQ(::kill(old_pid, SIGKILL), 0);
  ASSERT_TRUE(WaitUntil([&] { int32_t p = ZtunnelPid(lab_, "node-b"); return p > 0 && p != old_pid; },
                        10000));
  EXPECT_EQ(PollFrom(outside, "server", 10000), "server")
      << "plaintext not steered to the restarted ztunnel";
}

}  // namespace
}  // namespace weft::agent::testing
