// `lab label` and `lab apply` change the live cluster.json the agents watch; a document
// that does not validate is rejected and leaves the file as it was.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/integration/lab/lab_fixture.h"
#include "weft/config/v1/config.pb.h"

namespace weft::lab::testing {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

weft::config::v1::ClusterConfig ReadConfig(const std::string& path) {
  weft::config::v1::ClusterConfig config;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(ReadFile(path), &config).ok()) << path;
  return config;
}

std::string WriteTemp(const std::string& lab, const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + lab + "-" + name;
  std::ofstream(path) << text;
  return path;
}

TEST_F(LabTest, LabelAndApplyChangeClusterConfig) {
  StartTwoNodeLab("conf");
  const std::string config_path = state_.cluster_config_path();
  weft::config::v1::ClusterConfig initial = ReadConfig(config_path);
  ASSERT_EQ(initial.workloads_size(), 4) << "one workload per pod";
  EXPECT_EQ(initial.workloads(0).addresses(0), state_.pods(0).ip());

  ProcessResult label = Weftctl({"lab", "label", "--name", lab_, "namespace", "demo",
                                 "team=payments", "weft.dev/dataplane-mode-"});
  ASSERT_EQ(label.exit_code, 0) << label.err;
  weft::config::v1::ClusterConfig labelled = ReadConfig(config_path);
  ASSERT_EQ(labelled.namespaces(0).name(), "demo");
  EXPECT_EQ(labelled.namespaces(0).labels().at("team"), "payments");
  EXPECT_FALSE(labelled.namespaces(0).labels().contains("weft.dev/dataplane-mode"));

  ProcessResult pod_label =
      Weftctl({"lab", "label", "--name", lab_, "pod", "demo/server", "version=v2"});
  ASSERT_EQ(pod_label.exit_code, 0) << pod_label.err;
  bool found = false;
  const weft::config::v1::ClusterConfig relabelled = ReadConfig(config_path);
  for (const auto& w : relabelled.workloads()) {
    if (w.name() == "server") found = w.labels().contains("version");
  }
  EXPECT_TRUE(found);

  const std::string before = ReadFile(config_path);
  std::string bad = WriteTemp(lab_, "bad.yaml",
                              "services:\n"
                              "  - name: web\n"
                              "    namespace: demo\n"
                              "    ports:\n"
                              "      - port: 70000\n");
  ProcessResult rejected = Weftctl({"lab", "apply", "--name", lab_, bad});
  EXPECT_EQ(rejected.exit_code, 1);
  EXPECT_THAT(rejected.err, HasSubstr("services[0].ports[0].port"));
  EXPECT_THAT(rejected.err, HasSubstr("(line 5)"));
  EXPECT_EQ(ReadFile(config_path), before) << "a rejected document must not change cluster.json";

  std::string good = WriteTemp(lab_, "good.yaml",
                               "authorization_policies:\n"
                               "  - name: allow-client\n"
                               "    namespace: demo\n"
                               "    action: ALLOW\n"
                               "    rules:\n"
                               "      - from:\n"
                               "          - namespaces: [demo]\n");
  ProcessResult applied = Weftctl({"lab", "apply", "--name", lab_, good});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  weft::config::v1::ClusterConfig merged = ReadConfig(config_path);
  ASSERT_EQ(merged.authorization_policies_size(), 1);
  EXPECT_EQ(merged.authorization_policies(0).name(), "allow-client");
  EXPECT_EQ(merged.services_size(), initial.services_size()) << "existing objects are kept";
  // Applying the same document again replaces, not duplicates.
  ASSERT_EQ(Weftctl({"lab", "apply", "--name", lab_, good}).exit_code, 0);
  EXPECT_EQ(ReadConfig(config_path).authorization_policies_size(), 1);
}

TEST(LabTopologyTest, InvalidTopologyIsRejectedByFieldBeforeAnythingIsCreated) {
  const std::string lab = UniqueLabName("topo");
  std::string path = WriteTemp(lab, "topology.yaml",
                               "nodes:\n"
                               "  - name: node-a\n"
                               "    pod_cidr: 10.244.0.0/25\n"
                               "  - name: node-a\n"
                               "pods:\n"
                               "  - name: web\n"
                               "    namespace: demo\n"
                               "    node: node-z\n"
                               "config:\n"
                               "  namespaces:\n"
                               "    - name: demo\n");
  ProcessResult up = Weftctl({"lab", "up", path, "--name", lab});
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_THAT(up.err, HasSubstr("nodes[0].pod_cidr: expected a /24"));
  EXPECT_THAT(up.err, HasSubstr("nodes[1].name: expected a unique node name"));
  EXPECT_THAT(up.err,
              HasSubstr("pods[0].node: expected one of the nodes, got \"node-z\" (line 8)"));
  EXPECT_EQ(std::count(up.err.begin(), up.err.end(), '\n'), 1) << "one line: " << up.err;
  EXPECT_THAT(FindLeftovers(lab, {}), ::testing::IsEmpty());
}

}  // namespace
}  // namespace weft::lab::testing
