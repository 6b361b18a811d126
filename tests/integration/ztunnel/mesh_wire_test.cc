// What crosses the wire between nodes when a pod talks to a pod on another node: 100 MiB
// arrive intact, and the underlay carries only mutual TLS on the HBONE port — the plaintext
// marker the payload repeats every 64 KiB never appears in any frame, and no frame is
// addressed to the application's port.
#include <cstdio>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/ztunnel/payload_stream.h"
#include "tests/integration/ztunnel/pod_clients.h"
#include "tests/integration/ztunnel/pod_servers.h"
#include "tests/integration/ztunnel/wire_capture.h"
#include "tests/integration/ztunnel/ztunnel_lab_fixture.h"

namespace weft::ztunnel::testing {
namespace {

constexpr uint64_t kBytes = 100ull << 20;
constexpr uint64_t kSeed = 0x5eed'f00d'1234'5678ull;

TEST_F(ZtunnelLabTest, MeshCarriesHundredMiBIntactAndOnlyTlsOnTheWire) {
  ASSERT_NO_FATAL_FAILURE(StartMeshLab("ztwire"));
  ASSERT_NO_FATAL_FAILURE(WaitForMesh({"client", "server"}));

  std::unique_ptr<PodProcess> receiver =
      PodProcess::Start(Placement("server", /*join_cgroup=*/false),
                        [](int channel) { return RunBulkReceiver(channel, 8080, kSeed); });
  ASSERT_NE(receiver, nullptr);
  ASSERT_EQ(receiver->ReadLine(5000), "ready");
  std::unique_ptr<PodProcess> sender =
      PodProcess::Start(Placement("client", /*join_cgroup=*/true), RunBulkSender);
  ASSERT_NE(sender, nullptr);

  // Forked children first: the capture thread must not exist while the test forks.
  absl::StatusOr<std::unique_ptr<WireCapture>> capture =
      WireCapture::Start(Node("node-a").netns(), "eth0", std::string(kPlaintextMarker));
  ASSERT_TRUE(capture.ok()) << capture.status();

  std::optional<std::string> sent = sender->Call(
      "send 10.244.1.2 8080 " + std::to_string(kBytes) + " " + std::to_string(kSeed), 60'000);
  std::optional<std::string> received = receiver->ReadLine(10'000);
  WireSummary wire = (*capture)->Stop();
  std::printf("sender: %s\nreceiver: %s\n", sent.value_or("(none)").c_str(),
              received.value_or("(none)").c_str());
  std::printf(
      "wire (node-a eth0): %llu frames, %llu bytes, %llu on :15008, %llu to :8080, "
      "%llu from :8080, %llu with the marker, %llu dropped by the kernel\n",
      (unsigned long long)wire.frames, (unsigned long long)wire.bytes,
      (unsigned long long)wire.tcp_frames_port_15008, (unsigned long long)wire.tcp_frames_dst_8080,
      (unsigned long long)wire.tcp_frames_src_8080, (unsigned long long)wire.frames_with_pattern,
      (unsigned long long)wire.kernel_drops);

  // Intact: every byte, in order, as the receiver regenerated it.
  ASSERT_TRUE(sent.has_value()) << "the sender never answered";
  ASSERT_TRUE(received.has_value()) << "the receiver never reported";
  EXPECT_TRUE(
      sent->starts_with("sent " + std::to_string(kBytes) + " done:" + std::to_string(kBytes) + " "))
      << *sent;
  std::istringstream report(*received);
  std::string word, peer;
  uint64_t bytes = 0;
  int64_t mismatch = 0;
  report >> word >> bytes >> mismatch >> peer;
  EXPECT_EQ(bytes, kBytes) << *received;
  EXPECT_EQ(mismatch, -1) << "first corrupted byte at offset " << mismatch;

  // Only TLS on the wire, and the capture demonstrably saw the transfer.
  EXPECT_EQ(wire.frames_with_pattern, 0u) << "plaintext marker seen on node-a's underlay";
  EXPECT_EQ(wire.tcp_frames_dst_8080, 0u) << "frames to the app port crossed the underlay";
  EXPECT_EQ(wire.tcp_frames_src_8080, 0u) << "frames from the app port crossed the underlay";
  EXPECT_GT(wire.tcp_frames_port_15008, 0u) << "no HBONE traffic seen: the capture missed it";
  EXPECT_GE(wire.bytes, kBytes) << "the capture saw less than the payload itself";

  // The destination's ztunnel logged who talked, authenticated by mTLS.
  std::vector<std::string> lines;
  bool logged = weft::lab::testing::WaitUntil(
      [&] {
        lines = AccessLines("node-b");
        return CountLinesWith(lines,
                              {"\"src.identity\":\"spiffe://cluster.local/ns/demo/sa/client\"",
                               "\"security\":\"mutual_tls\""}) > 0;
      },
      5000);
  EXPECT_TRUE(logged) << "no mTLS access line for demo/client on node-b; lines:\n"
                      << ::testing::PrintToString(lines);
  RecordProperty("wire_frames", std::to_string(wire.frames));
  RecordProperty("wire_kernel_drops", std::to_string(wire.kernel_drops));
}

}  // namespace
}  // namespace weft::ztunnel::testing
