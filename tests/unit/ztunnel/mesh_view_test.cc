// MeshView: what ztunnel believes about one config snapshot (who is where, which VIP leads
// to which endpoints, who is in the mesh, under which identity and inbound mode).
#include "ztunnel/mesh_view.h"

#include <arpa/inet.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace weft::ztunnel {
namespace {

using weft::config::v1::ClusterConfig;

constexpr char kConfig[] = R"pb(
  namespaces {
    name: "shop"
    labels { key: "weft.dev/dataplane-mode" value: "ambient" }
  }
  namespaces { name: "legacy" }
  workloads {
    uid: "web-1"
    name: "web-1"
    namespace: "shop"
    service_account: "web"
    node: "node-a"
    addresses: "10.0.0.1"
    addresses: "fd00::1"
    labels { key: "app" value: "web" }
  }
  workloads {
    uid: "web-2"
    name: "web-2"
    namespace: "shop"
    node: "node-b"
    addresses: "10.0.0.2"
    labels { key: "app" value: "web" }
  }
  workloads {
    uid: "web-sick"
    name: "web-sick"
    namespace: "shop"
    node: "node-a"
    health: UNHEALTHY
    addresses: "10.0.0.3"
    labels { key: "app" value: "web" }
  }
  workloads {
    uid: "web-v6"
    name: "web-v6"
    namespace: "shop"
    node: "node-a"
    addresses: "fd00::4"
    labels { key: "app" value: "web" }
  }
  workloads {
    uid: "db-1"
    name: "db-1"
    namespace: "shop"
    service_account: "db"
    node: "node-a"
    addresses: "10.0.0.5"
    labels { key: "app" value: "db" }
  }
  workloads {
    uid: "optout"
    name: "optout"
    namespace: "shop"
    node: "node-a"
    addresses: "10.0.0.6"
    labels { key: "weft.dev/dataplane-mode" value: "none" }
  }
  workloads {
    uid: "plain"
    name: "plain"
    namespace: "shop"
    node: "node-a"
    addresses: "10.0.0.7"
    protocol: TCP
  }
  workloads { uid: "old" name: "old" namespace: "legacy" node: "node-a" addresses: "10.0.1.1" }
  services {
    name: "web"
    namespace: "shop"
    vips: "10.96.0.10"
    vips: "fd00:96::10"
    ports { port: 80 target_port: 8080 }
    ports { port: 443 }
    selector { key: "app" value: "web" }
  }
  services {
    name: "pinned"
    namespace: "shop"
    vips: "10.96.0.11"
    ports { port: 5432 }
    endpoints { workload_uid: "db-1" port: 6543 }
    endpoints { workload_uid: "web-2" }
  }
  peer_authentications { name: "ns-wide" namespace: "shop" mode: STRICT }
  peer_authentications {
    name: "db-permissive"
    namespace: "shop"
    mode: PERMISSIVE
    selector { match_labels { key: "app" value: "db" } }
  }
)pb";

ClusterConfig ParseConfig(const std::string& text) {
  ClusterConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

std::shared_ptr<const MeshView> MakeView(const std::string& text = kConfig,
                                         const std::string& node = "node-a") {
  absl::StatusOr<std::shared_ptr<const MeshView>> view =
      MeshView::Create(ParseConfig(text), 7, node);
  EXPECT_TRUE(view.ok()) << view.status();
  return view.ok() ? *view : nullptr;
}

// "uid@address:port" per endpoint, sorted: order is the load balancer's business.
std::vector<std::string> Describe(const std::vector<ServiceEndpoint>& endpoints) {
  std::vector<std::string> out;
  for (const ServiceEndpoint& e : endpoints) {
    out.push_back(e.workload->proto->uid() + "@" + e.address + ":" + std::to_string(e.port));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(MeshViewTest, VipResolvesToSelectedHealthyWorkloadsOnTargetPort) {
  auto view = MakeView();
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->version(), 7u);
  const ServiceInfo* web = view->ServiceByVip("10.96.0.10", 80);
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->key, "shop/web");
  // web-sick is UNHEALTHY and web-v6 has no IPv4 address: neither is offered.
  EXPECT_EQ(Describe(view->Endpoints(*web, 80, AF_INET)),
            (std::vector<std::string>{"web-1@10.0.0.1:8080", "web-2@10.0.0.2:8080"}));
  // Without a target_port the service port is the endpoint port.
  EXPECT_EQ(Describe(view->Endpoints(*web, 443, AF_INET)),
            (std::vector<std::string>{"web-1@10.0.0.1:443", "web-2@10.0.0.2:443"}));
}

TEST(MeshViewTest, Ipv6VipGetsIpv6AddressesOnly) {
  auto view = MakeView();
  ASSERT_NE(view, nullptr);
  const ServiceInfo* web = view->ServiceByVip("fd00:96::10", 80);
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(Describe(view->Endpoints(*web, 80, AF_INET6)),
            (std::vector<std::string>{"web-1@fd00::1:8080", "web-v6@fd00::4:8080"}));
}

TEST(MeshViewTest, UnknownVipOrPortIsNoService) {
  auto view = MakeView();
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->ServiceByVip("10.96.0.10", 81), nullptr);
  EXPECT_EQ(view->ServiceByVip("10.96.0.99", 80), nullptr);
  EXPECT_EQ(view->ServiceByVip("10.0.0.1", 8080), nullptr);  // a pod IP is not a VIP
}

TEST(MeshViewTest, ExplicitEndpointsKeepTheirPortOverride) {
  auto view = MakeView();
  ASSERT_NE(view, nullptr);
  const ServiceInfo* pinned = view->ServiceByVip("10.96.0.11", 5432);
  ASSERT_NE(pinned, nullptr);
  EXPECT_EQ(Describe(view->Endpoints(*pinned, 5432, AF_INET)),
            (std::vector<std::string>{"db-1@10.0.0.5:6543", "web-2@10.0.0.2:5432"}));
}

TEST(MeshViewTest, WorkloadsFoundByAddressAndUid) {
  auto view = MakeView();
  ASSERT_NE(view, nullptr);
  const WorkloadInfo* by_v4 = view->WorkloadByAddress("10.0.0.1");
  const WorkloadInfo* by_v6 = view->WorkloadByAddress("fd00::1");
  const WorkloadInfo* by_uid = view->WorkloadByUid("web-1");
  ASSERT_NE(by_uid, nullptr);
  EXPECT_EQ(by_v4, by_uid);
  EXPECT_EQ(by_v6, by_uid);
  EXPECT_EQ(by_uid->proto->name(), "web-1");
  EXPECT_EQ(view->WorkloadByAddress("10.9.9.9"), nullptr);
  EXPECT_EQ(view->WorkloadByUid("nobody"), nullptr);
}

TEST(MeshViewTest, InMeshOnlyForAmbientNotOptedOutNotTcp) {
  auto view = MakeView();
  ASSERT_NE(view, nullptr);
  EXPECT_TRUE(view->WorkloadByUid("web-1")->in_mesh);
  EXPECT_TRUE(view->WorkloadByUid("web-2")->in_mesh);
  EXPECT_FALSE(view->WorkloadByUid("optout")->in_mesh);
  EXPECT_FALSE(view->WorkloadByUid("plain")->in_mesh);
  EXPECT_FALSE(view->WorkloadByUid("old")->in_mesh);
  EXPECT_FALSE(view->WorkloadByUid("web-sick")->healthy);
  EXPECT_TRUE(view->WorkloadByUid("web-1")->healthy);
}

TEST(MeshViewTest, IdentityUsesServiceAccountOrDefaultAndDefaultTrustDomain) {
  auto view = MakeView();
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->trust_domain(), "cluster.local");
  EXPECT_EQ(view->WorkloadByUid("web-1")->identity, "spiffe://cluster.local/ns/shop/sa/web");
  EXPECT_EQ(view->WorkloadByUid("web-2")->identity, "spiffe://cluster.local/ns/shop/sa/default");
  EXPECT_EQ(NamespaceOfIdentity("spiffe://cluster.local/ns/shop/sa/web"), "shop");
  EXPECT_EQ(NamespaceOfIdentity("https://cluster.local/ns/shop/sa/web"), "");
}

TEST(MeshViewTest, ConfiguredTrustDomainIsUsed) {
  auto view = MakeView(std::string(kConfig) + R"pb(mesh { trust_domain: "corp.example" })pb");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->trust_domain(), "corp.example");
  EXPECT_EQ(view->WorkloadByUid("db-1")->identity, "spiffe://corp.example/ns/shop/sa/db");
}

TEST(MeshViewTest, LocalIdentitiesAreThisNodesMeshWorkloadsOnly) {
  auto view = MakeView();
  ASSERT_NE(view, nullptr);
  // node-a: web-1 (web), web-sick/web-v6 (default), db-1 (db). optout, plain and the
  // legacy workload are not in the mesh; web-2 lives on node-b.
  EXPECT_EQ(view->LocalIdentities(),
            (std::set<std::string>{"spiffe://cluster.local/ns/shop/sa/db",
                                   "spiffe://cluster.local/ns/shop/sa/default",
                                   "spiffe://cluster.local/ns/shop/sa/web"}));
  auto other = MakeView(kConfig, "node-b");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->LocalIdentities(),
            (std::set<std::string>{"spiffe://cluster.local/ns/shop/sa/default"}));
}

TEST(MeshViewTest, WorkloadPeerAuthenticationBeatsNamespaceWide) {
  auto view = MakeView();
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->WorkloadByUid("web-1")->inbound_mode, config::InboundMode::kStrict);
  EXPECT_EQ(view->WorkloadByUid("db-1")->inbound_mode, config::InboundMode::kPermissive);
  EXPECT_EQ(view->WorkloadByUid("old")->inbound_mode, config::InboundMode::kPermissive);
}

TEST(MeshViewTest, WorkloadSelectorBeatsNamespaceWideWhateverTheOrder) {
  // The selecting policy listed first, the namespace-wide one after: still the selector.
  auto view = MakeView(R"pb(
    namespaces {
      name: "shop"
      labels { key: "weft.dev/dataplane-mode" value: "ambient" }
    }
    workloads {
      uid: "db-1"
      namespace: "shop"
      labels { key: "app" value: "db" }
    }
    peer_authentications {
      name: "db-strict"
      namespace: "shop"
      mode: STRICT
      selector { match_labels { key: "app" value: "db" } }
    }
    peer_authentications { name: "ns-wide" namespace: "shop" mode: PERMISSIVE }
  )pb");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->WorkloadByUid("db-1")->inbound_mode, config::InboundMode::kStrict);
}

TEST(MeshViewTest, PolicyTheEvaluatorRejectsFailsTheSnapshot) {
  absl::StatusOr<std::shared_ptr<const MeshView>> view =
      MeshView::Create(ParseConfig(std::string(kConfig) + R"pb(
                         authorization_policies {
                           name: "broken"
                           namespace: "shop"
                           action: ALLOW
                           rules { when { key: "source.ip" values: "not-an-ip" } }
                         }
                       )pb"),
                       8, "node-a");
  ASSERT_FALSE(view.ok());
  EXPECT_NE(view.status().message().find("broken"), absl::string_view::npos) << view.status();
}

TEST(MeshViewTest, AuthorizerSeesThePolicies) {
  auto view = MakeView(std::string(kConfig) + R"pb(
    authorization_policies {
      name: "deny-legacy"
      namespace: "shop"
      action: DENY
      rules { from { namespaces: "legacy" } }
    }
  )pb");
  ASSERT_NE(view, nullptr);
  authz::ConnectionAttributes attributes;
  attributes.source_principal = "spiffe://cluster.local/ns/legacy/sa/default";
  attributes.source_namespace = "legacy";
  attributes.destination = view->WorkloadByUid("web-1")->authz_destination;
  attributes.destination_port = 8080;
  EXPECT_EQ(view->authorizer().Evaluate(attributes).verdict, authz::Verdict::kDeny);
  attributes.source_namespace = "shop";
  attributes.source_principal = "spiffe://cluster.local/ns/shop/sa/web";
  EXPECT_EQ(view->authorizer().Evaluate(attributes).verdict, authz::Verdict::kAllow);
}

}  // namespace
}  // namespace weft::ztunnel
