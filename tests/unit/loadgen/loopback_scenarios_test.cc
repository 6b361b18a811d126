// weft-loadgen end to end on 127.0.0.1: the library's server and client scenarios, the
// echo server's framing edge cases, and the binary against a closed port.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "bench/loadgen/load_client.h"
#include "bench/loadgen/load_server.h"
#include "bench/loadgen/monotonic_clock.h"
#include "bench/loadgen/wire_framing.h"
#include "tests/unit/loadgen/closed_port.h"
#include "common/event/scoped_fd.h"

namespace weft::loadgen {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

// A LoadServer on 127.0.0.1:0 running on its own thread for the test's lifetime.
class RunningServer {
 public:
  explicit RunningServer(ServerMode mode) {
    ServerOptions options;
    options.listen = *event::SocketAddress::Parse("127.0.0.1:0");
    options.mode = mode;
    options.max_duration_ns = 30 * kSecond;  // a hung test still ends
    absl::StatusOr<std::unique_ptr<LoadServer>> server = LoadServer::Create(options);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::thread([this] { run_status_ = server_->Run(); });
  }
  ~RunningServer() {
    server_->Stop();
    thread_.join();
    EXPECT_TRUE(run_status_.ok()) << run_status_;
  }
  const event::SocketAddress& address() const { return server_->address(); }

 private:
  std::unique_ptr<LoadServer> server_;
  absl::Status run_status_;
  std::thread thread_;
};

ClientOptions OneSecondOf(Scenario scenario, const event::SocketAddress& target) {
  ClientOptions options;
  options.target = target;
  options.scenario = scenario;
  options.size = 1024;
  options.duration_ns = kSecond;
  options.warmup_ns = 0;
  return options;
}

TEST(LoopbackScenariosTest, ClosedLoopRequestResponseRunsWithoutErrors) {
  RunningServer server(ServerMode::kEcho);
  ClientOptions options = OneSecondOf(Scenario::kRequestResponse, server.address());
  options.closed_loop = true;
  absl::StatusOr<RunReport> report = RunClient(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->count, 100u);
  EXPECT_EQ(report->errors.Total(), 0u);
  EXPECT_GT(report->rate, 100.0);
  EXPECT_GT(report->latency.Percentile(50), 0);
  // Closed loop sends the moment the slot is free: latency and service time coincide.
  EXPECT_EQ(report->latency.Percentile(99), report->service_time.Percentile(99));
}

TEST(LoopbackScenariosTest, OpenLoopKeepsTheRequestedRateOverSeveralConnections) {
  RunningServer server(ServerMode::kEcho);
  ClientOptions options = OneSecondOf(Scenario::kRequestResponse, server.address());
  options.connections = 4;
  options.rate = 2000;
  const int64_t start = MonotonicNanos();
  absl::StatusOr<RunReport> report = RunClient(options);
  const int64_t elapsed = MonotonicNanos() - start;
  ASSERT_TRUE(report.ok()) << report.status();
  // Once the schedule is done and nothing is in flight the run ends: no idling until the
  // hard limit (duration + timeout + 1 s).
  EXPECT_LT(elapsed, options.duration_ns + kSecond / 2);
  EXPECT_EQ(report->errors.Total(), 0u);
  // The schedule holds exactly 2000 due times inside the 1 s window.
  EXPECT_EQ(report->count, 2000u);
  EXPECT_NEAR(report->rate, 2000.0, 1.0);
}

TEST(LoopbackScenariosTest, ConnectionRateCompletesCycles) {
  RunningServer server(ServerMode::kEcho);
  ClientOptions options = OneSecondOf(Scenario::kConnectionRate, server.address());
  options.connections = 2;
  absl::StatusOr<RunReport> report = RunClient(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->rate, 10.0);
  EXPECT_EQ(report->errors.Total(), 0u);
  EXPECT_GT(report->latency.Min(), 0);
}

TEST(LoopbackScenariosTest, BulkUploadAndDownloadMoveData) {
  for (BulkDirection direction : {BulkDirection::kUpload, BulkDirection::kDownload}) {
    RunningServer server(direction == BulkDirection::kUpload ? ServerMode::kSink
                                                             : ServerMode::kSource);
    ClientOptions options = OneSecondOf(Scenario::kBulk, server.address());
    options.connections = 2;
    options.direction = direction;
    absl::StatusOr<RunReport> report = RunClient(options);
    ASSERT_TRUE(report.ok()) << report.status();
    const std::string name = BulkDirectionName(direction);
    EXPECT_GT(report->throughput_mib_s, 1.0) << name;
    ASSERT_EQ(report->per_connection_mib_s.size(), 2u) << name;
    EXPECT_GT(report->per_connection_mib_s[0], 0.0) << name;
    EXPECT_GT(report->per_connection_mib_s[1], 0.0) << name;
    EXPECT_EQ(report->errors.Total(), 0u) << name;
  }
}

TEST(LoopbackScenariosTest, ClosedPortCountsRefusedConnectsAndEndsOnTime) {
  ClosedPort closed;
  ClientOptions options = OneSecondOf(Scenario::kRequestResponse, closed.address);
  options.closed_loop = true;
  const int64_t start = MonotonicNanos();
  absl::StatusOr<RunReport> report = RunClient(options);
  const int64_t elapsed = MonotonicNanos() - start;
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->count, 0u);
  EXPECT_GT(report->errors.Of("connect_refused"), 0u);
  EXPECT_LT(elapsed, options.duration_ns + kSecond / 2);

  // Open loop: every request due in the window is reported as never sent.
  options.closed_loop = false;
  options.rate = 200;
  options.duration_ns = kSecond / 2;
  report = RunClient(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->errors.Of("not_sent"), 100u);
  EXPECT_GT(report->errors.Of("connect_refused"), 0u);
}

TEST(LoopbackScenariosTest, EchoServerAnswersPipelinedRequestsAndRefusesOversizedOnes) {
  RunningServer server(ServerMode::kEcho);
  event::ScopedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(fd.get(), server.address().sockaddr_ptr(), server.address().length()), 0);
  // Two requests in one write: 3 bytes asking for 5, then 0 bytes asking for 7.
  uint8_t wire[2 * kFrameHeaderSize + 3] = {};
  EncodeFrameHeader({3, 5}, wire);
  EncodeFrameHeader({0, 7}, wire + kFrameHeaderSize + 3);
  ASSERT_EQ(send(fd.get(), wire, sizeof(wire), 0), static_cast<ssize_t>(sizeof(wire)));
  size_t received = 0;
  uint8_t buffer[64];
  while (received < 12) {
    const ssize_t n = recv(fd.get(), buffer, sizeof(buffer), 0);
    ASSERT_GT(n, 0);
    received += static_cast<size_t>(n);
  }
  EXPECT_EQ(received, 12u);
  // A header asking for more than 16 MiB closes the connection.
  uint8_t oversized[kFrameHeaderSize];
  EncodeFrameHeader({1, kMaxMessageSize + 1}, oversized);
  ASSERT_EQ(send(fd.get(), oversized, sizeof(oversized), 0), 8);
  EXPECT_EQ(recv(fd.get(), buffer, sizeof(buffer), 0), 0);
}

TEST(LoopbackScenariosTest, BinaryReportsRefusedConnectsAsJsonAndExitsZero) {
  ClosedPort closed;
  const std::string command = std::string(WEFT_LOADGEN_BINARY) + " client --target " +
                              closed.address.ToString() +
                              " --scenario connrate --connections 2 --duration 1 --warmup 0"
                              " --json 2>&1";
  const int64_t start = MonotonicNanos();
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char chunk[4096];
  while (size_t n = fread(chunk, 1, sizeof(chunk), pipe)) output.append(chunk, n);
  const int status = pclose(pipe);
  const int64_t elapsed = MonotonicNanos() - start;
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_LT(elapsed, 2 * kSecond);
  EXPECT_EQ(output.front(), '{') << output;
  EXPECT_NE(output.find("\"scenario\":\"connrate\""), std::string::npos) << output;
  EXPECT_NE(output.find("\"connect_refused\":"), std::string::npos) << output;
  EXPECT_NE(output.find("\"count\":0,"), std::string::npos) << output;
  EXPECT_NE(output.find("\"p99_9\":"), std::string::npos) << output;
}

}  // namespace
}  // namespace weft::loadgen
