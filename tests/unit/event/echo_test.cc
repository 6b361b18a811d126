// 2,000 concurrent loopback connections through an echo server on one EventLoop; each client
// sends 64 KiB of pseudo-random bytes and checks the echo byte for byte. The clients use plain
// non-blocking sockets and epoll on the test thread, never the loop under test.
#include <fcntl.h>
#include <sys/epoll.h>

#include <cstdint>
#include <vector>

#include "common/event/listen_socket.h"
#include "tests/unit/event/event_test_support.h"

namespace weft::event {
namespace {

using testing::EchoHandler;
using testing::LoopThread;

constexpr size_t kConnections = 2000;
constexpr size_t kBytesPerConnection = 64 * 1024;
constexpr auto kDeadline = std::chrono::seconds(40);

struct Client {
  int fd = -1;
  std::vector<uint8_t> payload;
  size_t sent = 0;
  size_t received = 0;
  bool write_done = false;
  bool finished = false;
  std::string failure;  // empty while healthy
};

std::vector<uint8_t> PseudoRandomBytes(uint64_t seed, size_t n) {
  std::vector<uint8_t> out(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<uint8_t>(x >> 32);
  }
  return out;
}

void PumpWrites(Client& c) {
  while (c.sent < c.payload.size()) {
    ssize_t n = ::send(c.fd, c.payload.data() + c.sent, c.payload.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINPROGRESS || errno == ENOTCONN)) return;
    if (n <= 0) {
      c.failure = std::string("send: ") + std::strerror(errno);
      return;
    }
    c.sent += static_cast<size_t>(n);
  }
  if (!c.write_done) {
    // Half-close: the server sees EOF, flushes the rest of its echo, then closes.
    ::shutdown(c.fd, SHUT_WR);
    c.write_done = true;
  }
}

void PumpReads(Client& c) {
  uint8_t buf[16384];
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) {
      c.failure = std::string("recv: ") + std::strerror(errno);
      return;
    }
    if (n == 0) {
      if (c.received != c.payload.size()) {
        c.failure = "EOF after " + std::to_string(c.received) + " of " +
                    std::to_string(c.payload.size()) + " bytes";
      }
      c.finished = true;
      return;
    }
    if (c.received + static_cast<size_t>(n) > c.payload.size()) {
      c.failure = "server sent more bytes than the client did";
      return;
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] != c.payload[c.received + static_cast<size_t>(i)]) {
        c.failure = "byte " + std::to_string(c.received + static_cast<size_t>(i)) + " differs";
        return;
      }
    }
    c.received += static_cast<size_t>(n);
  }
}

TEST(EchoTest, TwoThousandConnectionsEchoSixtyFourKiBEachByteForByte) {
  testing::RaiseFdLimit(2 * kConnections + 256);
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create({.name = "echo"});
  ASSERT_TRUE(loop.ok()) << loop.status();
  absl::StatusOr<SocketAddress> any = SocketAddress::Parse("127.0.0.1:0");
  ASSERT_TRUE(any.ok());
  absl::StatusOr<ScopedFd> listen_fd = OpenListenSocket(*any, {.backlog = 4096});
  ASSERT_TRUE(listen_fd.ok()) << listen_fd.status();
  absl::StatusOr<SocketAddress> bound = SocketAddress::LocalOf(listen_fd->get());
  ASSERT_TRUE(bound.ok());
  ASSERT_TRUE((*loop)
                  ->AddListener(std::move(*listen_fd),
                                [](ConnectionId) { return std::make_unique<EchoHandler>(); })
                  .ok());
  LoopThread loop_thread(**loop);

  ScopedFd epoll_fd(::epoll_create1(EPOLL_CLOEXEC));
  ASSERT_TRUE(epoll_fd.valid());
  std::vector<Client> clients(kConnections);
  std::vector<ScopedFd> owned;
  sockaddr_in server = testing::Loopback(bound->port());
  for (size_t i = 0; i < kConnections; ++i) {
    Client& c = clients[i];
    c.payload = PseudoRandomBytes(i + 1, kBytesPerConnection);
    owned.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(owned.back().valid()) << std::strerror(errno);
    c.fd = owned.back().get();
    int rc = ::connect(c.fd, reinterpret_cast<sockaddr*>(&server), sizeof(server));
    ASSERT_TRUE(rc == 0 || errno == EINPROGRESS) << std::strerror(errno);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.u64 = i;
    ASSERT_EQ(::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, c.fd, &ev), 0);
  }

  const auto start = std::chrono::steady_clock::now();
  size_t finished = 0;
  std::vector<epoll_event> events(1024);
  while (finished < kConnections && std::chrono::steady_clock::now() - start < kDeadline) {
    int n = ::epoll_wait(epoll_fd.get(), events.data(), static_cast<int>(events.size()), 100);
    for (int e = 0; e < n; ++e) {
      Client& c = clients[events[e].data.u64];
      if (c.finished) continue;
      if (events[e].events & EPOLLERR) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        c.failure = std::string("socket error: ") + std::strerror(err);
      }
      if (c.failure.empty() && (events[e].events & EPOLLOUT) && !c.write_done) {
        PumpWrites(c);
        if (c.write_done) {
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP;
          ev.data.u64 = events[e].data.u64;
          ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_MOD, c.fd, &ev);
        }
      }
      if (c.failure.empty() && (events[e].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
        PumpReads(c);
      }
      if (!c.failure.empty()) c.finished = true;
      if (c.finished) {
        ++finished;
        ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_DEL, c.fd, nullptr);
      }
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;

  size_t failures = 0;
  for (size_t i = 0; i < kConnections; ++i) {
    const Client& c = clients[i];
    if (!c.failure.empty() || !c.finished) {
      if (++failures <= 5) {
        ADD_FAILURE() << "client " << i << ": "
                      << (c.failure.empty() ? "did not finish in time" : c.failure) << " (sent "
                      << c.sent << ", echoed " << c.received << ")";
      }
    }
  }
  EXPECT_EQ(failures, 0u);
  EXPECT_EQ(finished, kConnections);
  const EventLoopStats& stats = (*loop)->stats();
  EXPECT_EQ(EventLoopStats::Get(stats.connections_accepted), kConnections);
  EXPECT_EQ(EventLoopStats::Get(stats.bytes_received), kConnections * kBytesPerConnection);
  EXPECT_TRUE(testing::WaitFor(
      [&] { return EventLoopStats::Get(stats.connections_closed) == kConnections; },
      std::chrono::seconds(5)));
  std::cout << "echoed " << kConnections << " x " << kBytesPerConnection << " bytes in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
            << " ms; buffer-ring exhaustions: " << EventLoopStats::Get(stats.recv_buffers_exhausted)
            << ", completion batches: " << EventLoopStats::Get(stats.completion_batches)
            << std::endl;
  EXPECT_TRUE(loop_thread.Stop().ok());
}

}  // namespace
}  // namespace weft::event
