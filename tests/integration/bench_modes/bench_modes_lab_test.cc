// The bench suite's `iptables` and `stunnel` modes on the real two-node lab (ztunnels,
// agents, eBPF): the iptables capture sends an uncaptured client through ztunnel and only
// while installed; the stunnel pair carries requests over mutual TLS 1.3 and refuses a
// client without a certificate. The measured p50s are printed for the report.
#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/modes/iptables_capture.h"
#include "bench/modes/netns_command.h"
#include "bench/modes/stunnel_pair.h"
#include "gtest/gtest.h"
#include "tests/integration/bench_modes/loadgen_runs.h"
#include "tests/integration/ztunnel/ztunnel_lab_fixture.h"

namespace weft::bench::modes {
namespace {

using testing::LoadgenServer;
using testing::RrRun;
using testing::RunRrClient;
using weft::lab::testing::WaitUntil;
using weft::ztunnel::testing::CountLinesWith;
using weft::ztunnel::testing::MetricSum;

constexpr char kServerIp[] = "10.244.1.2";
constexpr char kOpened[] = "weft_tcp_connections_opened_total";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class BenchModesLabTest : public weft::ztunnel::testing::ZtunnelLabTest {
 protected:
  std::string NetnsPath(const std::string& pod) { return "/run/netns/" + Pod(pod).netns(); }

  double Opened(const std::string& node) {
    return MetricSum(ZtunnelGet(node, "/metrics"), kOpened);
  }

  void StartEchoServer() {
    std::string error;
    server_ = LoadgenServer::Start("0.0.0.0:8080", NetnsPath("server"),
                                   Placement("server", /*join_cgroup=*/true).cgroup, &error);
    ASSERT_NE(server_, nullptr) << error;
  }

  std::unique_ptr<LoadgenServer> server_;
};

TEST_F(BenchModesLabTest, IptablesCaptureSendsAnUncapturedClientThroughZtunnel) {
  ASSERT_NO_FATAL_FAILURE(StartMeshLab("bmipt"));
  ASSERT_NO_FATAL_FAILURE(WaitForMesh({"client-2", "server"}));
  ASSERT_NO_FATAL_FAILURE(StartEchoServer());
  const std::string client_netns = NetnsPath("client-2");
  const std::string target = std::string(kServerIp) + ":8080";

  absl::StatusOr<std::unique_ptr<IptablesCapture>> capture =
      IptablesCapture::Install({.netns_path = client_netns});
  ASSERT_TRUE(capture.ok()) << capture.status();
  std::printf("iptables mode: %s\n", (*capture)->Describe().c_str());
  // A second capture in the same netns must refuse rather than share (and later delete)
  // the first one's chain.
  absl::StatusOr<std::unique_ptr<IptablesCapture>> second =
      IptablesCapture::Install({.netns_path = client_netns});
  EXPECT_FALSE(second.ok());

  const double opened_before = Opened("node-a");
  RrRun captured = RunRrClient(target, client_netns);
  ASSERT_EQ(captured.exit_code, 0) << captured.raw;
  EXPECT_GT(captured.count, 100) << captured.raw;
  EXPECT_EQ(captured.error_total, 0) << captured.raw;
  double opened_after = opened_before;
  EXPECT_TRUE(WaitUntil([&] { return (opened_after = Opened("node-a")) > opened_before; }, 3000))
      << "node-a ztunnel opened no connection: the REDIRECT did not reach it\n"
      << DiagnosticTail("node-a", 20);
  std::printf(
      "iptables mode: rr 1 KiB closed loop p50 %.1f us p99 %.1f us, %.0f requests; "
      "node-a ztunnel opened %.0f connections\n",
      captured.p50_us, captured.p99_us, captured.count, opened_after - opened_before);

  // ztunnel knew where the connection was going (conntrack's SO_ORIGINAL_DST answer): its
  // access line names the server and the HBONE mTLS it used.
  std::vector<std::string> lines;
  EXPECT_TRUE(WaitUntil(
      [&] {
        lines = AccessLines("node-a");
        return CountLinesWith(lines, {"10.244.1.2", "8080", "mutual_tls"}) > 0;
      },
      3000))
      << ::testing::PrintToString(lines);
  if (!lines.empty()) std::printf("node-a access line: %s\n", lines.back().c_str());

  ASSERT_TRUE((*capture)->Remove().ok());
  absl::StatusOr<std::string> rules = RunCommandOk({"iptables", "-t", "nat", "-S"}, client_netns);
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->find("WEFT_BENCH_OUTPUT"), std::string::npos) << *rules;

  const double opened_direct = Opened("node-a");
  RrRun direct = RunRrClient(target, client_netns);
  ASSERT_EQ(direct.exit_code, 0) << direct.raw;
  EXPECT_GT(direct.count, 100) << direct.raw;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // metrics lag the access log
  EXPECT_EQ(Opened("node-a"), opened_direct) << "without the capture node-a's ztunnel is bypassed";
  // The `mesh` mode for the same pod and path, for comparison: the eBPF capture.
  RrRun mesh = RunRrClient(target, client_netns, Placement("client-2", true).cgroup);
  EXPECT_EQ(mesh.exit_code, 0) << mesh.raw;
  EXPECT_GT(mesh.count, 100) << mesh.raw;
  std::printf("mesh mode (eBPF capture, same pod): p50 %.1f us p99 %.1f us\n", mesh.p50_us,
              mesh.p99_us);
  std::printf(
      "without capture (node-b sk_lookup still steers it into node-b's ztunnel): "
      "p50 %.1f us p99 %.1f us\n",
      direct.p50_us, direct.p99_us);
}

// A plain TCP client (no TLS at all) sends a framed request straight to the server relay:
// nothing may come back from the application.
std::string PlainRequestAnswer(const std::string& netns, const std::string& ip, uint16_t port) {
  int fd = weft::lab::testing::SocketInNetns(netns, SOCK_STREAM);
  if (fd < 0) return "<no socket>";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";  // refused: nothing got through either
  }
  // weft-loadgen framing: request size 16, response size 64, then the request.
  unsigned char request[8 + 16] = {0, 0, 0, 16, 0, 0, 0, 64};
  (void)!::send(fd, request, sizeof(request), MSG_NOSIGNAL);
  std::string answer;
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1500) <= 0) break;
    char buf[256];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer;
}

TEST_F(BenchModesLabTest, StunnelPairCarriesRequestsOverMutualTls13) {
  ASSERT_NO_FATAL_FAILURE(StartMeshLab("bmstn"));
  ASSERT_NO_FATAL_FAILURE(WaitForMesh({"client", "server"}));
  ASSERT_NO_FATAL_FAILURE(StartEchoServer());
  char dir_template[] = "/tmp/weft-bench-modes-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string work_dir = dir_template;
  struct RemoveDir {
    std::string path;
    ~RemoveDir() { std::filesystem::remove_all(path); }
  } remove_dir{work_dir};

  StunnelPairOptions options;
  options.client_netns_path = NetnsPath("client");
  options.server_netns_path = NetnsPath("server");
  options.server_ip = kServerIp;
  options.services = {{"echo", 18080, 18443, "127.0.0.1:8080"}};
  options.work_dir = work_dir;
  absl::StatusOr<std::unique_ptr<StunnelPair>> pair = StunnelPair::Start(options);
  ASSERT_TRUE(pair.ok()) << pair.status();
  std::printf("stunnel mode: %s\n", (*pair)->Describe().c_str());
  EXPECT_GT((*pair)->client_pid(), 0);
  EXPECT_GT((*pair)->server_pid(), 0);
  // Phase 1, both pods enrolled (as in the demo namespace). Start's probes already went
  // through both relays: let their metrics settle, then count from here.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double opened_a = Opened("node-a");
  const double opened_b = Opened("node-b");
  RrRun run = RunRrClient("127.0.0.1:18080", options.client_netns_path);
  ASSERT_EQ(run.exit_code, 0) << run.raw;
  EXPECT_GT(run.count, 100) << run.raw;
  EXPECT_EQ(run.error_total, 0) << run.raw;

  // stunnel's own account: TLS 1.3 with AES-128-GCM, and each side verified the other.
  const std::string server_log = ReadAll((*pair)->server_log_path());
  const std::string client_log = ReadAll((*pair)->client_log_path());
  EXPECT_NE(server_log.find("TLSv1.3 ciphersuite: TLS_AES_128_GCM_SHA256"), std::string::npos)
      << server_log;
  EXPECT_NE(server_log.find("Certificate accepted at depth=0: CN=stunnel-client"),
            std::string::npos)
      << server_log;
  EXPECT_NE(client_log.find("Certificate accepted at depth=0: CN=stunnel-server"),
            std::string::npos)
      << client_log;

  // The relays are not in the pods' cgroups: node-a's ztunnel (outbound) never sees them.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Opened("node-a"), opened_a);
  // But the client relay reaches the server relay from another pod, and node-b's sk_lookup
  // steers that TCP (TLS inside, plaintext to weft) into node-b's ztunnel (15006,
  // PERMISSIVE): with an enrolled server pod, the stunnel path carries one ztunnel hop.
  const double via_ztunnel = Opened("node-b") - opened_b;
  EXPECT_EQ(via_ztunnel, 1) << "one rr connection, steered once";
  std::printf(
      "stunnel mode, server pod enrolled (one node-b ztunnel hop, %.0f conn): rr 1 KiB "
      "closed loop p50 %.1f us p99 %.1f us, %.0f requests\n",
      via_ztunnel, run.p50_us, run.p99_us, run.count);

  // Phase 2, the server pod opted out: the clean `stunnel` mode, no ztunnel anywhere.
  ASSERT_NO_FATAL_FAILURE(Label({"pod", "demo/server", "weft.dev/dataplane-mode=none"}));
  const std::string uid = Pod("server").uid();
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::string pods = ZtunnelGet("node-b", "/debug/pods");
        return !pods.empty() && pods.find("\"" + uid + "\"") == std::string::npos;
      },
      10'000))
      << ZtunnelGet("node-b", "/debug/pods");
  const double opened_b_clean = Opened("node-b");
  RrRun clean = RunRrClient("127.0.0.1:18080", options.client_netns_path);
  ASSERT_EQ(clean.exit_code, 0) << clean.raw;
  EXPECT_GT(clean.count, 100) << clean.raw;
  EXPECT_EQ(clean.error_total, 0) << clean.raw;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Opened("node-b"), opened_b_clean) << "opted-out server pod still steered";
  std::printf(
      "stunnel mode, server pod opted out (no ztunnel): p50 %.1f us p99 %.1f us, "
      "%.0f requests\n",
      clean.p50_us, clean.p99_us, clean.count);

  // Loopback inside the pod (server relay -> app on 127.0.0.1:8080) is not steered: the
  // app saw the requests through stunnel, and sk_lookup passes lo traffic (see README).

  // No TLS at all: nothing reaches the application.
  const std::string answer = PlainRequestAnswer(Pod("client").netns(), kServerIp, 18443);
  EXPECT_LT(answer.size(), 64u) << "plain TCP got an answer through the server relay";
  if (!answer.empty()) {
    EXPECT_EQ(answer[0], 0x15) << "only a TLS alert may come back";
  }

  // TLS without a client certificate: the server relay refuses it.
  absl::StatusOr<CommandResult> no_cert =
      RunCommand({"openssl", "s_client", "-connect", std::string(kServerIp) + ":18443", "-tls1_3",
                  "-CAfile", work_dir + "/pki/ca.crt", "-ign_eof", "-quiet"},
                 options.client_netns_path, 10'000);
  ASSERT_TRUE(no_cert.ok()) << no_cert.status();
  EXPECT_NE(no_cert->output.find("certificate required"), std::string::npos) << no_cert->output;
  EXPECT_NE(no_cert->exit_code, 0);
}

}  // namespace
}  // namespace weft::bench::modes
