// The splice relay (`weft-loadgen server --mode relay`) on 127.0.0.1: bytes arrive intact
// in both directions, a half-close is passed on, and a refused upstream closes the
// accepted connection and is counted.
#include "bench/loadgen/splice_relay.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "common/event/listen_socket.h"
#include "tests/unit/loadgen/closed_port.h"

namespace weft::loadgen {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

class RunningRelay {
 public:
  explicit RunningRelay(const event::SocketAddress& upstream) {
    absl::StatusOr<std::unique_ptr<SpliceRelay>> relay =
        SpliceRelay::Create({.listen = *event::SocketAddress::Parse("127.0.0.1:0"),
                             .upstream = upstream,
                             .max_duration_ns = 30 * kSecond});
    if (!relay.ok()) {
      ADD_FAILURE() << relay.status();
      std::abort();  // nothing below can run without it
    }
    relay_ = std::move(*relay);
    thread_ = std::thread([this] { run_status_ = relay_->Run(); });
  }
  ~RunningRelay() {
    relay_->Stop();
    thread_.join();
    EXPECT_TRUE(run_status_.ok()) << run_status_;
  }
  SpliceRelay& relay() { return *relay_; }

 private:
  std::unique_ptr<SpliceRelay> relay_;
  absl::Status run_status_;
  std::thread thread_;
};

// Reads time out after 10 s, so a relay that never answers fails the test, not CTest.
event::ScopedFd ConnectTo(const event::SocketAddress& address) {
  event::ScopedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{10, 0};
  EXPECT_EQ(setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)), 0);
  EXPECT_EQ(connect(fd.get(), address.sockaddr_ptr(), address.length()), 0) << strerror(errno);
  return fd;
}

std::string ReadToEof(int fd) {
  std::string all;
  char buffer[65536];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) return all;
    all.append(buffer, static_cast<size_t>(n));
  }
}

bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

TEST(SpliceRelayTest, RelaysBothWaysAndPassesTheHalfCloseOn) {
  absl::StatusOr<event::ScopedFd> upstream =
      event::OpenListenSocket(*event::SocketAddress::Parse("127.0.0.1:0"));
  ASSERT_TRUE(upstream.ok()) << upstream.status();
  RunningRelay relay(*event::SocketAddress::LocalOf(upstream->get()));

  std::string request(4 << 20, '\0');
  for (size_t i = 0; i < request.size(); ++i) request[i] = static_cast<char>(i * 131 + (i >> 12));
  // The application behind the relay: reads the request to EOF (the client's half-close),
  // then answers and closes.
  std::string seen;
  std::thread app([&] {
    event::ScopedFd conn(accept4(upstream->get(), nullptr, nullptr, SOCK_CLOEXEC));
    const timeval timeout{10, 0};
    setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    seen = ReadToEof(conn.get());
    WriteAll(conn.get(), "got " + std::to_string(seen.size()));
  });
  event::ScopedFd client = ConnectTo(relay.relay().address());
  // EXPECT, not ASSERT: `app` must be joined whatever happens.
  EXPECT_TRUE(WriteAll(client.get(), request));
  EXPECT_EQ(shutdown(client.get(), SHUT_WR), 0);
  const std::string answer = ReadToEof(client.get());
  app.join();

  EXPECT_TRUE(seen == request) << "upstream saw " << seen.size() << " bytes, not the request";
  EXPECT_EQ(answer, "got 4194304");
  const SpliceRelayCounters& c = relay.relay().counters();
  EXPECT_EQ(c.connections_accepted.load(), 1u);
  EXPECT_EQ(c.upstream_failures.load(), 0u);
  EXPECT_EQ(c.bytes_relayed.load(), request.size() + answer.size());
}

TEST(SpliceRelayTest, RefusedUpstreamClosesTheAcceptedConnectionAndIsCounted) {
  ClosedPort refused;
  RunningRelay relay(refused.address);
  event::ScopedFd client = ConnectTo(relay.relay().address());
  EXPECT_EQ(ReadToEof(client.get()), "");
  EXPECT_EQ(relay.relay().counters().upstream_failures.load(), 1u);
  EXPECT_EQ(relay.relay().counters().bytes_relayed.load(), 0u);
}

}  // namespace
}  // namespace weft::loadgen
