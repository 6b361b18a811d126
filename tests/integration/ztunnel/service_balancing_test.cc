// A service VIP dialled from a mesh pod is resolved by ztunnel to the service's endpoints,
// balanced round robin: 20 connects to demo/server's VIP reach both server pods.
#include <map>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/ztunnel/pod_servers.h"
#include "tests/integration/ztunnel/ztunnel_lab_fixture.h"

namespace weft::ztunnel::testing {
namespace {

constexpr int kConnects = 20;

std::unique_ptr<PodProcess> StartNamedServer(const PodPlacement& placement,
                                             const std::string& name) {
  std::unique_ptr<PodProcess> server = PodProcess::Start(
      placement, [name](int channel) { return RunNamedServer(channel, name, {8080}); });
  if (server == nullptr || server->ReadLine(5000) != "ready") return nullptr;
  return server;
}

TEST_F(ZtunnelLabTest, ServiceVipIsBalancedAcrossEndpoints) {
  ASSERT_NO_FATAL_FAILURE(StartMeshLab("ztvip"));
  ASSERT_NO_FATAL_FAILURE(WaitForMesh({"client", "server", "server-2"}));
  auto server = StartNamedServer(Placement("server", false), "server");
  ASSERT_NE(server, nullptr);
  auto server2 = StartNamedServer(Placement("server-2", false), "server-2");
  ASSERT_NE(server2, nullptr);
  auto client = weft::agent::testing::StartPodClient(Placement("client", true));
  ASSERT_NE(client, nullptr);

  std::map<std::string, int> answers;
  for (int i = 0; i < kConnects; ++i) {
    ++answers[client->Call("probe 10.96.0.10 80").value_or("(no reply)")];
  }
  std::string summary;
  for (const auto& [answer, count] : answers) {
    summary += answer + "=" + std::to_string(count) + " ";
  }
  std::printf("VIP answers: %s\n", summary.c_str());
  RecordProperty("vip_answers", summary);
  EXPECT_GT(answers["server"], 0) << summary;
  EXPECT_GT(answers["server-2"], 0) << summary;
  EXPECT_EQ(answers["server"] + answers["server-2"], kConnects)
      << "some connects failed: " << summary;
  // Round robin over two endpoints: an even split (give or take one).
  EXPECT_LE(std::abs(answers["server"] - answers["server-2"]), 2) << summary;
}

}  // namespace
}  // namespace weft::ztunnel::testing
