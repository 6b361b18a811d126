// Coordinated omission: a server that stalls once for 1 s during a 3 s open-loop run at
// 1000 requests/s. About a thousand requests fall due during the stall; measured from
// their intended send time they waited up to a second, so p99 must show hundreds of ms.
// Measured from the actual send (service_time, what a naive closed-loop tool reports) only
// the one stalled request is slow and p99 stays small.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "bench/loadgen/load_client.h"
#include "bench/loadgen/wire_framing.h"
#include "common/event/scoped_fd.h"
#include "common/event/socket_address.h"

namespace weft::loadgen {
namespace {

// A blocking one-connection-at-a-time echo server that sleeps once, before answering
// request number `stall_at` (counted from 0 over the whole server's life).
class StallingEchoServer {
 public:
  StallingEchoServer(int stall_at, std::chrono::milliseconds stall)
      : stall_at_(stall_at), stall_(stall) {
    listener_.Reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(listen(listener_.get(), 16), 0);
    absl::StatusOr<event::SocketAddress> bound = event::SocketAddress::LocalOf(listener_.get());
    EXPECT_TRUE(bound.ok());
    address_ = *bound;
    thread_ = std::thread([this] { Serve(); });
  }
  ~StallingEchoServer() {
    stop_ = true;
    thread_.join();
  }
  const event::SocketAddress& address() const { return address_; }

 private:
  // Waits for readability in 50 ms steps so the destructor's stop flag is seen.
  bool WaitReadable(int fd) {
    pollfd p{fd, POLLIN, 0};
    while (!stop_) {
      if (poll(&p, 1, 50) > 0) return true;
    }
    return false;
  }
  bool ReadExactly(int fd, uint8_t* out, size_t n) {
    while (n > 0) {
      if (!WaitReadable(fd)) return false;
      const ssize_t got = recv(fd, out, n, 0);
      if (got <= 0) return false;
      out += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }
  void Serve() {
    while (WaitReadable(listener_.get())) {
      event::ScopedFd connection(accept(listener_.get(), nullptr, nullptr));
      if (!connection.valid()) continue;
      const int one = 1;
      setsockopt(connection.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      uint8_t header[kFrameHeaderSize];
      while (ReadExactly(connection.get(), header, sizeof(header))) {
        const FrameHeader frame = DecodeFrameHeader(header);
        std::vector<uint8_t> payload(std::max(frame.request_size, frame.response_size));
        if (!ReadExactly(connection.get(), payload.data(), frame.request_size)) break;
        if (answered_++ == stall_at_) std::this_thread::sleep_for(stall_);
        if (send(connection.get(), payload.data(), frame.response_size, MSG_NOSIGNAL) !=
            static_cast<ssize_t>(frame.response_size)) {
          break;
        }
      }
    }
  }

  const int stall_at_;
  const std::chrono::milliseconds stall_;
  event::ScopedFd listener_;
  event::SocketAddress address_;
  std::atomic<bool> stop_{false};
  int answered_ = 0;
  std::thread thread_;
};

TEST(OpenLoopStallTest, IntendedTimeLatencyShowsTheStallThatServiceTimeHides) {
  StallingEchoServer server(/*stall_at=*/1000, std::chrono::milliseconds(1000));
  ClientOptions options;
  options.target = server.address();
  options.scenario = Scenario::kRequestResponse;
  options.size = 1;
  options.connections = 1;
  options.rate = 1000;
  options.duration_ns = int64_t{3} * 1'000'000'000;
  options.warmup_ns = 0;

  absl::StatusOr<RunReport> report = RunClient(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->errors.Total(), 0u);
  // Open loop keeps the schedule: every one of the ~3000 requests is sent and answered.
  EXPECT_GE(report->count, 2900u);
  EXPECT_LE(report->count, 3000u);

  const LatencySummary latency = report->latency.Summarize();
  const LatencySummary naive = report->service_time.Summarize();
  RecordProperty("open_loop_p99_ns", std::to_string(latency.p99));
  RecordProperty("service_time_p99_ns", std::to_string(naive.p99));
  EXPECT_GE(latency.p99, 400'000'000) << "open-loop p99 must include queueing behind the stall";
  EXPECT_GE(latency.p90, 300'000'000);  // ~1/3 of all requests were queued behind it
  EXPECT_LT(latency.p50, 100'000'000);
  EXPECT_GE(naive.max, 900'000'000) << "the stalled request itself";
  EXPECT_LT(naive.p99, 400'000'000) << "actual-send-time latency hides the stall";
}

}  // namespace
}  // namespace weft::loadgen
