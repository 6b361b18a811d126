// 5,000 concurrent connections from one pod through both ztunnels: every one is set up and
// echoes, they all survive a hold (WEFT_TEST_HOLD_S, 30 s by default) and echo again, then
// close cleanly — both ztunnels count them closed and report no failure. ztunnel's RSS
// before, during and after is printed and recorded, not judged.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/ztunnel/pod_clients.h"
#include "tests/integration/ztunnel/pod_servers.h"
#include "tests/integration/ztunnel/ztunnel_lab_fixture.h"

namespace weft::ztunnel::testing {
namespace {

constexpr int kConnections = 5000;

int HoldSeconds() {
  const char* value = std::getenv("WEFT_TEST_HOLD_S");
  return value != nullptr ? std::atoi(value) : 30;
}

// "<word> <ok> <failed> <first error> <ms>" from the swarm.
struct RoundReport {
  std::string word;
  int ok = -1;
  int failed = -1;
  std::string first_error;
  int64_t ms = -1;
  std::string failure_kinds;
};

RoundReport ParseRound(const std::optional<std::string>& line) {
  RoundReport report;
  if (!line.has_value()) return report;
  std::istringstream in(*line);
  in >> report.word >> report.ok >> report.failed >> report.first_error >> report.ms >>
      report.failure_kinds;
  return report;
}

class ConnectionSwarmTest : public ZtunnelLabTest {
 protected:
  // What both ztunnels said, for a failure report.
  void PrintDiagnostics() {
    std::vector<std::string> lines = AccessLines("node-a");
    std::printf("node-a ztunnel log tail:\n%s\nnode-b ztunnel log tail:\n%s\n",
                DiagnosticTail("node-a", 20).c_str(), DiagnosticTail("node-b", 20).c_str());
    std::printf("node-a access lines: %zu, first: %s\nnode-a metrics:\n%s\n", lines.size(),
                lines.empty() ? "" : lines.front().c_str(),
                ZtunnelGet("node-a", "/metrics").c_str());
  }

  void RecordRss(const std::string& when) {
    for (const std::string node : {"node-a", "node-b"}) {
      int64_t rss = ZtunnelRssKib(node);
      std::printf("ztunnel %s RSS %s: %lld KiB\n", node.c_str(), when.c_str(),
                  static_cast<long long>(rss));
      RecordProperty("rss_kib_" + node + "_" + when, std::to_string(rss));
      EXPECT_GT(rss, 0) << "no ztunnel process on " << node << " " << when;
    }
  }
};

TEST_F(ConnectionSwarmTest, FiveThousandConcurrentConnectionsHoldAndCloseCleanly) {
  ASSERT_NO_FATAL_FAILURE(StartMeshLab("ztswarm"));
  ASSERT_NO_FATAL_FAILURE(WaitForMesh({"client", "server"}));
  std::unique_ptr<PodProcess> server = PodProcess::Start(
      Placement("server", false), [](int channel) { return RunEpollEchoServer(channel, 8080); },
      /*lifetime_s=*/240);
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(server->ReadLine(5000), "ready");
  std::unique_ptr<PodProcess> swarm =
      PodProcess::Start(Placement("client", true), RunConnectionSwarm, /*lifetime_s=*/240);
  ASSERT_NE(swarm, nullptr);

  const std::string metrics_a_before = ZtunnelGet("node-a", "/metrics");
  const std::string metrics_b_before = ZtunnelGet("node-b", "/metrics");
  const double closed_a_before = MetricSum(metrics_a_before, "weft_tcp_connections_closed_total");
  const double closed_b_before = MetricSum(metrics_b_before, "weft_tcp_connections_closed_total");
  const size_t lines_b_before = AccessLines("node-b").size();
  const size_t lines_a_before = AccessLines("node-a").size();
  RecordRss("before");

  RoundReport opened =
      ParseRound(swarm->Call("open " + std::to_string(kConnections) + " 10.244.1.2 8080", 60'000));
  std::printf("open: %d ok, %d failed (%s; %s) in %lld ms\n", opened.ok, opened.failed,
              opened.first_error.c_str(), opened.failure_kinds.c_str(),
              static_cast<long long>(opened.ms));
  if (opened.ok != kConnections) PrintDiagnostics();
  ASSERT_EQ(opened.ok, kConnections) << "first error: " << opened.first_error;
  EXPECT_EQ(server->Call("stats"),
            "stats " + std::to_string(kConnections) + " " + std::to_string(kConnections))
      << "the server should hold exactly one upstream connection per client connection";
  RecordRss("during");

  std::this_thread::sleep_for(std::chrono::seconds(HoldSeconds()));
  RoundReport echoed = ParseRound(swarm->Call("echo", 60'000));
  std::printf("echo after %d s: %d ok, %d failed (%s; %s) in %lld ms\n", HoldSeconds(), echoed.ok,
              echoed.failed, echoed.first_error.c_str(), echoed.failure_kinds.c_str(),
              static_cast<long long>(echoed.ms));
  if (echoed.ok != kConnections) PrintDiagnostics();
  EXPECT_EQ(echoed.ok, kConnections) << "first error: " << echoed.first_error;
  EXPECT_EQ(echoed.failed, 0);

  EXPECT_EQ(swarm->Call("close"), "closed " + std::to_string(kConnections));
  bool server_drained = weft::lab::testing::WaitUntil(
      [&] { return server->Call("stats") == "stats " + std::to_string(kConnections) + " 0"; },
      20'000);
  EXPECT_TRUE(server_drained) << "upstream connections left open: "
                              << server->Call("stats").value_or("");

  // Both ztunnels saw every connection close, and none fail.
  std::string metrics_a, metrics_b;
  bool counted = weft::lab::testing::WaitUntil(
      [&] {
        metrics_a = ZtunnelGet("node-a", "/metrics");
        metrics_b = ZtunnelGet("node-b", "/metrics");
        return MetricSum(metrics_a, "weft_tcp_connections_closed_total") - closed_a_before >=
                   kConnections &&
               MetricSum(metrics_b, "weft_tcp_connections_closed_total") - closed_b_before >=
                   kConnections;
      },
      20'000);
  RecordRss("after");
  EXPECT_TRUE(counted) << "closed on node-a: "
                       << MetricSum(metrics_a, "weft_tcp_connections_closed_total") -
                              closed_a_before
                       << ", on node-b: "
                       << MetricSum(metrics_b, "weft_tcp_connections_closed_total") -
                              closed_b_before;
  EXPECT_EQ(MetricSum(metrics_a, "weft_tcp_connection_failures_total"),
            MetricSum(metrics_a_before, "weft_tcp_connection_failures_total"));
  EXPECT_EQ(MetricSum(metrics_b, "weft_tcp_connection_failures_total"),
            MetricSum(metrics_b_before, "weft_tcp_connection_failures_total"));

  for (const std::string node : {"node-a", "node-b"}) {
    // Metrics are counted just before the access line is written: let the log catch up.
    std::vector<std::string> lines;
    int closed = 0;
    weft::lab::testing::WaitUntil(
        [&] {
          lines = AccessLines(node);
          lines.erase(lines.begin(),
                      lines.begin() +
                          static_cast<long>(node == "node-a" ? lines_a_before : lines_b_before));
          closed = CountLinesWith(lines, {"\"outcome\":\"closed\""});
          return closed >= kConnections;
        },
        5000);
    std::printf("%s access log: %zu new lines, %d closed\n", node.c_str(), lines.size(), closed);
    EXPECT_EQ(closed, kConnections) << node;
    std::string other = "(none)";
    for (const std::string& line : lines) {
      if (line.find("\"outcome\":\"closed\"") == std::string::npos) {
        other = line;
        break;
      }
    }
    EXPECT_EQ(lines.size(), static_cast<size_t>(kConnections))
        << node << " logged other outcomes too, e.g. " << other;
  }
}

}  // namespace
}  // namespace weft::ztunnel::testing
