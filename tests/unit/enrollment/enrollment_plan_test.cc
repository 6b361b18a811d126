// Which workloads a node enrolls, and in which inbound mode.
#include "agent/enrollment/enrollment_plan.h"

#include "common/config/config_loader.h"
#include "gtest/gtest.h"

namespace weft::agent {
namespace {

weft::config::v1::ClusterConfig Load(const std::string& yaml) {
  config::LoadedConfig loaded = config::LoadClusterConfig(yaml);
  EXPECT_TRUE(loaded.ok()) << config::FormatErrors("test", loaded.errors);
  return loaded.config;
}

constexpr char kCluster[] = R"(
namespaces:
  - {name: shop, labels: {weft.dev/dataplane-mode: ambient}}
  - {name: legacy}
workloads:
  - {uid: a, name: a, namespace: shop, node: n1, service_account: sa, addresses: [10.0.0.1], labels: {app: a}}
  - {uid: b, name: b, namespace: shop, node: n1, addresses: [10.0.0.2], labels: {app: b, weft.dev/dataplane-mode: none}}
  - {uid: c, name: c, namespace: shop, node: n2, addresses: [10.0.1.1]}
  - {uid: d, name: d, namespace: legacy, node: n1, addresses: [10.0.0.4]}
  - {uid: e, name: e, namespace: shop, node: n1, addresses: [10.0.0.5], protocol: TCP}
  - {uid: f, name: f, namespace: shop, node: n1, addresses: [10.0.0.6], labels: {app: f}}
)";

TEST(EnrollmentPlan, AmbientNamespaceOnThisNodeMinusOptOuts) {
  EnrollmentPlan plan = PlanEnrollment(Load(kCluster), "n1");
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_TRUE(plan.count("a"));  // ambient namespace, this node
  EXPECT_TRUE(plan.count("f"));
  EXPECT_FALSE(plan.count("b"));  // pod opted out
  EXPECT_FALSE(plan.count("c"));  // other node
  EXPECT_FALSE(plan.count("d"));  // namespace not opted in
  EXPECT_FALSE(plan.count("e"));  // declared plain TCP
  EXPECT_EQ(plan.at("a").service_account, "sa");
  EXPECT_EQ(plan.at("f").service_account, "default");
  EXPECT_EQ(plan.at("a").addresses, std::vector<std::string>{"10.0.0.1"});
}

TEST(EnrollmentPlan, RemovingTheNamespaceLabelUnenrollsEverything) {
  std::string yaml = kCluster;
  yaml.replace(yaml.find("labels: {weft.dev/dataplane-mode: ambient}"),
               std::string("labels: {weft.dev/dataplane-mode: ambient}").size(), "labels: {}");
  EXPECT_TRUE(PlanEnrollment(Load(yaml), "n1").empty());
}

TEST(EnrollmentPlan, PeerAuthenticationSelectorBeatsNamespaceWide) {
  std::string yaml = std::string(kCluster) + R"(
peer_authentications:
  - {name: ns-wide, namespace: shop, mode: STRICT}
  - {name: f-open, namespace: shop, selector: {match_labels: {app: f}}, mode: PERMISSIVE}
)";
  EnrollmentPlan plan = PlanEnrollment(Load(yaml), "n1");
  EXPECT_EQ(plan.at("a").mode, InboundMode::kStrict);
  EXPECT_EQ(plan.at("f").mode, InboundMode::kPermissive);
}

TEST(EnrollmentPlan, NoPeerAuthenticationMeansPermissive) {
  EXPECT_EQ(PlanEnrollment(Load(kCluster), "n1").at("a").mode, InboundMode::kPermissive);
}

}  // namespace
}  // namespace weft::agent
