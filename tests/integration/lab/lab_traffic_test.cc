// The lab's network and `lab exec`: pods on different nodes reach each other by pod IP,
// and a command run with `lab exec` is inside the pod's netns and cgroup.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/lab/lab_fixture.h"

namespace weft::lab::testing {
namespace {

constexpr size_t kPayloadBytes = 10 * 1024 * 1024;

sockaddr_in Address(const std::string& ip, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  return addr;
}

TEST_F(LabTest, TcpBetweenPodsOnDifferentNodesCarriesPayloadIntact) {
  StartTwoNodeLab("tcp", /*with_ztunnel=*/false);
  const auto& server = Pod("server");  // node-b
  const auto& client = Pod("client");  // node-a
  ASSERT_NE(server.node(), client.node());

  int listener = SocketInNetns(server.netns(), SOCK_STREAM);
  ASSERT_GE(listener, 0);
  sockaddr_in bind_addr = Address(server.ip(), 0);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&bind_addr), sizeof(bind_addr)), 0)
      << "bind " << server.ip() << ": " << std::strerror(errno);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof(bind_addr);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&bind_addr), &len);

  std::vector<char> payload(kPayloadBytes);
  std::mt19937 random(42);
  for (char& c : payload) c = static_cast<char>(random());

  std::vector<char> received;
  std::string peer_ip;
  std::thread receiver([&] {
    sockaddr_in peer{};
    socklen_t peer_len = sizeof(peer);
    int conn = ::accept(listener, reinterpret_cast<sockaddr*>(&peer), &peer_len);
    if (conn < 0) return;
    char ip[INET_ADDRSTRLEN];
    peer_ip = ::inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(conn, buf, sizeof(buf), 0)) > 0)
      received.insert(received.end(), buf, buf + n);
    ::close(conn);
  });

  int sender = SocketInNetns(client.netns(), SOCK_STREAM);
  ASSERT_GE(sender, 0);
  timeval timeout{20, 0};
  ::setsockopt(sender, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in target = Address(server.ip(), ntohs(bind_addr.sin_port));
  bool connected = ::connect(sender, reinterpret_cast<sockaddr*>(&target), sizeof(target)) == 0;
  int connect_errno = errno;
  size_t sent = 0;
  while (connected && sent < payload.size()) {
    ssize_t n = ::send(sender, payload.data() + sent, payload.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  ::shutdown(sender, SHUT_WR);
  if (!connected) ::shutdown(listener, SHUT_RDWR);  // unblock accept()
  receiver.join();
  ::close(sender);
  ::close(listener);

  ASSERT_TRUE(connected) << "connect " << client.ip() << " -> " << server.ip() << ": "
                         << std::strerror(connect_errno);
  EXPECT_EQ(sent, kPayloadBytes);
  EXPECT_EQ(peer_ip, client.ip()) << "the server must see the client's pod IP (no NAT)";
  ASSERT_EQ(received.size(), payload.size());
  EXPECT_TRUE(received == payload) << "payload corrupted in transit";
}

TEST_F(LabTest, ExecRunsInThePodsNetnsAndCgroup) {
  StartTwoNodeLab("exec");
  const auto& client = Pod("client");

  ProcessResult cgroup =
      Weftctl({"lab", "exec", "--name", lab_, "demo/client", "--", "cat", "/proc/self/cgroup"});
  ASSERT_EQ(cgroup.exit_code, 0) << cgroup.err;
  const std::string expected_cgroup = "0::/weft-lab-" + lab_ + "/node-a/demo-client\n";
  EXPECT_NE(cgroup.out.find(expected_cgroup), std::string::npos) << cgroup.out;

  ProcessResult addr = Weftctl({"lab", "exec", "--name", lab_, "client", "--", "ip", "-o", "-4",
                                "addr", "show", "dev", "eth0"});
  ASSERT_EQ(addr.exit_code, 0) << addr.err;
  EXPECT_NE(addr.out.find("inet " + client.ip() + "/24"), std::string::npos) << addr.out;

  // The very namespace the lab created, not merely one with the same address.
  ProcessResult ns =
      Weftctl({"lab", "exec", "--name", lab_, "client", "--", "readlink", "/proc/self/ns/net"});
  ASSERT_EQ(ns.exit_code, 0) << ns.err;
  struct stat st;
  ASSERT_EQ(::stat(("/run/netns/" + client.netns()).c_str(), &st), 0);
  EXPECT_EQ(ns.out, "net:[" + std::to_string(st.st_ino) + "]\n");

  ProcessResult status =
      Weftctl({"lab", "exec", "--name", lab_, "client", "--", "sh", "-c", "exit 7"});
  EXPECT_EQ(status.exit_code, 7);

  ProcessResult unknown = Weftctl({"lab", "exec", "--name", lab_, "nosuch", "--", "true"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no pod \"nosuch\""), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace weft::lab::testing
