// SharedState::Servable / AwaitServable: the gate before ztunnel acknowledges a pod to the
// agent (and so before the pod's traffic is captured): its workload must be in the mesh in
// ztunnel's config and its identity must hold a certificate.
#include "ztunnel/shared_state.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/unit/tls/tls_test_support.h"
#include "ztunnel/mesh_view.h"

namespace weft::ztunnel {
namespace {

using tls::testing::kServerId;

constexpr char kAmbientServer[] = R"pb(
  namespaces {
    name: "back"
    labels { key: "weft.dev/dataplane-mode" value: "ambient" }
  }
  workloads {
    uid: "server"
    name: "db-0"
    namespace: "back"
    service_account: "db"
    node: "node-a"
    addresses: "10.244.0.5"
  }
)pb";

std::shared_ptr<const MeshView> View(const std::string& text, uint64_t version) {
  weft::config::v1::ClusterConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config));
  auto view = MeshView::Create(config, version, "node-a");
  EXPECT_TRUE(view.ok()) << view.status();
  return view.ok() ? *view : nullptr;
}

class SharedStateTest : public ::testing::Test {
 protected:
  std::shared_ptr<const CredentialSet> ServerCredentials() {
    tls::Credentials creds = ca_.Issue(kServerId);
    auto server = tls::TlsContext::CreateServer(creds, tls::testing::Options());
    auto client = tls::TlsContext::CreateClient(creds, tls::testing::Options());
    EXPECT_TRUE(server.ok() && client.ok());
    auto set = std::make_shared<CredentialSet>();
    (*set)[kServerId] = IdentityTls{*client, *server};
    return set;
  }

  tls::testing::TestCa ca_;
  SharedState shared_{DataPlaneSettings{}, nullptr};
};

TEST_F(SharedStateTest, ServableNamesWhatIsMissing) {
  EXPECT_EQ(shared_.Servable("server").message(), "no config from the agent yet");

  shared_.set_view(View("", 3));
  EXPECT_EQ(shared_.Servable("server").message(), "workload server is not in config version 3 yet");

  shared_.set_view(View(R"pb(namespaces { name: "back" }
                             workloads { uid: "server" name: "db-0" namespace: "back"
                                         service_account: "db" node: "node-a"
                                         addresses: "10.244.0.5" })pb",
                        4));
  EXPECT_EQ(shared_.Servable("server").message(),
            "workload server is not in the mesh in config version 4");

  shared_.set_view(View(kAmbientServer, 5));
  EXPECT_EQ(shared_.Servable("server").message(),
            absl::StrCat("no certificate for ", kServerId, " yet"));

  shared_.set_credentials(ServerCredentials());
  EXPECT_TRUE(shared_.Servable("server").ok());
}

TEST_F(SharedStateTest, AwaitServableWakesWhenTheCertificateArrives) {
  shared_.set_view(View(kAmbientServer, 1));
  std::shared_ptr<const CredentialSet> credentials = ServerCredentials();
  std::thread issuer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    shared_.set_credentials(credentials);
  });
  const auto start = std::chrono::steady_clock::now();
  absl::Status ready = shared_.AwaitServable("server", absl::Seconds(30));
  const auto waited = std::chrono::steady_clock::now() - start;
  issuer.join();
  EXPECT_TRUE(ready.ok()) << ready;
  EXPECT_LT(waited, std::chrono::seconds(10));  // woken by the change, not by the deadline
}

TEST_F(SharedStateTest, AwaitServableGivesUpWithTheReason) {
  shared_.set_view(View(kAmbientServer, 1));
  absl::Status ready = shared_.AwaitServable("server", absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsUnavailable(ready)) << ready;
  EXPECT_EQ(ready.message(), absl::StrCat("no certificate for ", kServerId, " yet"));
}

}  // namespace
}  // namespace weft::ztunnel
