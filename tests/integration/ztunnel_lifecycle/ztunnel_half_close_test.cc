// An application that half-closes and then waits in a blocking recv() for a late answer —
// the shape of many request/response protocols — must get that answer through the mesh,
// never EAGAIN. (With the sk_msg loopback short-circuit on, this kernel returns EAGAIN to
// such a recv when the ACK of the FIN wakes it without data; the agent now leaves it off
// by default.)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/agent/agent_lab_fixture.h"

namespace weft::agent::testing {
namespace {

constexpr uint16_t kPort = 8080;

// demo/server: reads a request to EOF, waits 300 ms, answers "reply:<request>", closes.
int SlowAnswerer(int channel) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(kPort);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listener, 16) != 0) {
    return 1;
  }
  if (::write(channel, "ready\n", 6) != 6) return 1;
  while (true) {
    int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return 1;
    std::string request;
    char buf[256];
    ssize_t n;
    while ((n = ::recv(c, buf, sizeof(buf), 0)) > 0) request.append(buf, static_cast<size_t>(n));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const std::string reply = "reply:" + request;
    (void)!::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(c);
  }
}

// demo/client: for each "ask" line, connect (captured), send, shutdown(SHUT_WR), one
// blocking recv; answers the reply or "err <errno>".
int HalfCloser(int channel) {
  char line[64];
  while (::read(channel, line, sizeof(line)) > 0) {
    std::string answer;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval bound{5, 0};  // a hang is a failure too, but a bounded one
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(kPort);
    ::inet_pton(AF_INET, "10.244.1.2", &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::send(fd, "hello", 5, MSG_NOSIGNAL) != 5 || ::shutdown(fd, SHUT_WR) != 0) {
      answer = "err " + std::to_string(errno);
    } else {
      char buf[64];
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      answer = n > 0 ? std::string(buf, static_cast<size_t>(n))
                     : "err " + std::to_string(n == 0 ? 0 : errno);
    }
    ::close(fd);
    answer += "\n";
    if (::write(channel, answer.data(), answer.size()) < 0) return 1;
  }
  return 0;
}

TEST_F(AgentLabTest, HalfCloseThenBlockingRecvGetsTheLateReply) {
  ASSERT_NO_FATAL_FAILURE(StartTwoNodeLab("zhcl"));
  auto server = PodProcess::Start(Placement("server", false), SlowAnswerer);
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(server->ReadLine(5000), "ready");
  auto client = PodProcess::Start(Placement("client", true), HalfCloser);
  ASSERT_NE(client, nullptr);
  // Wait for the mesh (the first answers may come before demo/client is enrolled).
  std::optional<std::string> first;
  for (int i = 0; i < 20 && first != "reply:hello"; ++i) first = client->Call("ask", 8000);
  ASSERT_EQ(first, "reply:hello");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(client->Call("ask", 8000), "reply:hello") << "round " << i;
  }
  // Through the mesh, not around it.
  std::string metrics = AgentGet("node-a", "/metrics");
  EXPECT_GE(MetricValue(metrics, "weft_workload_connections_total",
                        {"workload=\"demo/client\"", "decision=\"captured\""}),
            5)
      << metrics;
}

}  // namespace
}  // namespace weft::agent::testing
