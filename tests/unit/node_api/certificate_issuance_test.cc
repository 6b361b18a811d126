// IssueCertificate end to end: the agent's local CA behind NodeApiServer, asked by ztunnel's
// CertificateClient over a real unix socket.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include "agent/nodeapi/node_api_server.h"
#include "agent/nodeapi/node_local_ca.h"
#include "tests/unit/ca/ca_test_support.h"
#include "tests/unit/node_api/node_api_test_support.h"
#include "ztunnel/nodeapi/certificate_client.h"

namespace weft {
namespace {

using agent::nodeapi::NodeApiOptions;
using agent::nodeapi::NodeApiServer;
using nodeapi_testing::MakeConfig;
using nodeapi_testing::MetricValue;
using ztunnel::CertificateClient;

constexpr char kCart[] = "spiffe://example.org/ns/shop/sa/cart";
constexpr char kPay[] = "spiffe://example.org/ns/shop/sa/pay";

// Verifies `chain_pem` (leaf first) against the roots in `bundle_pem`.
bool ChainVerifies(const std::string& chain_pem, const std::string& bundle_pem) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> roots(
      BIO_new_mem_buf(bundle_pem.data(), static_cast<int>(bundle_pem.size())), &BIO_free);
  while (X509* root = PEM_read_bio_X509(roots.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store.get(), root);
    X509_free(root);
  }
  auto leaf = ca::testing::ParseCertificate(chain_pem);
  if (leaf == nullptr) return false;
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  return X509_verify_cert(ctx.get()) == 1;
}

class CertificateIssuanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.Publish(MakeConfig("example.org", {{"uid-cart", "shop", "cart", "node-a"},
                                              {"uid-pay", "shop", "pay", "node-b"}}),
                   "test");
    auto ca = agent::nodeapi::OpenNodeLocalCa(
        {.ca_dir = dir_.File("ca"), .node = "node-a", .store = &store_});
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = *std::move(ca);
    auto server = StartServer(ca_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto client = CertificateClient::Create({.socket_path = socket_path()});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    key_ = ca::testing::GenerateEcKey("P-256");
    csr_ = ca::testing::MakeCsr(key_.get());
  }

  std::string socket_path() const { return dir_.File("node-api.sock"); }

  absl::StatusOr<std::unique_ptr<NodeApiServer>> StartServer(const ca::LocalCa* ca) {
    NodeApiOptions options;
    options.socket_path = socket_path();
    options.node = "node-a";
    options.store = &store_;
    options.ca = ca;
    options.cert_max_ttl = absl::Hours(2);
    options.cert_default_ttl = absl::Hours(1);
    options.metrics = &metrics_;
    return NodeApiServer::Create(std::move(options));
  }

  ca::testing::TempDir dir_;
  config::SnapshotStore store_;
  admin::MetricsRegistry metrics_;
  std::unique_ptr<ca::LocalCa> ca_;
  std::unique_ptr<NodeApiServer> server_;
  std::unique_ptr<CertificateClient> client_;
  decltype(ca::testing::GenerateEcKey("P-256")) key_;
  std::string csr_;
};

TEST_F(CertificateIssuanceTest, IdentityWithAPodOnThisNodeGetsAVerifiableChain) {
  auto issued = client_->Issue(kCart, csr_, absl::Minutes(30));
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_TRUE(ChainVerifies(issued->cert_chain_pem, issued->trust_bundle_pem));
  // The leaf certifies the CSR's key and nothing else.
  auto leaf = ca::testing::ParseCertificate(issued->cert_chain_pem);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), key_.get()), 1);
  EXPECT_NE(issued->cert_chain_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(issued->trust_bundle_pem, ca_->trust_bundle_pem());
  // Validity as written in the leaf: requested 30 min, backdated by the CA's minute.
  EXPECT_LE(issued->not_after - issued->not_before, absl::Minutes(31));
  EXPECT_GE(issued->not_after - issued->not_before, absl::Minutes(30));
  EXPECT_EQ(MetricValue(metrics_, "weft_node_api_certificates_total{result=\"issued\"}"), 1);

  // The CA's root key is kept owner-only, in an owner-only directory.
  struct stat st;
  ASSERT_EQ(stat(dir_.File("ca/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(dir_.File("ca").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(CertificateIssuanceTest, IdentityOnlyOnAnotherNodeIsPermissionDenied) {
  auto issued = client_->Issue(kPay, csr_, absl::Minutes(30));
  ASSERT_EQ(issued.status().code(), absl::StatusCode::kPermissionDenied) << issued.status();
  EXPECT_NE(issued.status().message().find(kPay), absl::string_view::npos);
  EXPECT_NE(issued.status().message().find("node-a"), absl::string_view::npos);
  EXPECT_EQ(MetricValue(metrics_, "weft_node_api_certificates_total{result=\"refused\"}"), 1);

  // Once a pay pod is scheduled here, the same request succeeds.
  store_.Publish(MakeConfig("example.org", {{"uid-pay-2", "shop", "pay", "node-a"}}), "test");
  EXPECT_TRUE(client_->Issue(kPay, csr_, absl::Minutes(30)).ok());
}

TEST_F(CertificateIssuanceTest, MalformedRequestsAreInvalidArgument) {
  EXPECT_EQ(client_->Issue(kCart, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", absl::Hours(1))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->Issue(kCart, "", absl::Hours(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->Issue("shop/cart", csr_, absl::Hours(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->Issue(kCart, csr_, absl::Seconds(-5)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CertificateIssuanceTest, LifetimeIsCappedAtTheMaximumAndDefaultedWhenZero) {
  auto capped = client_->Issue(kCart, csr_, absl::Hours(48));
  ASSERT_TRUE(capped.ok()) << capped.status();
  EXPECT_LE(capped->not_after - capped->not_before, absl::Hours(2) + absl::Minutes(1));
  EXPECT_GE(capped->not_after - capped->not_before, absl::Hours(2));

  auto defaulted = client_->Issue(kCart, csr_, absl::ZeroDuration());
  ASSERT_TRUE(defaulted.ok()) << defaulted.status();
  EXPECT_LE(defaulted->not_after - defaulted->not_before, absl::Hours(1) + absl::Minutes(1));
  EXPECT_GE(defaulted->not_after - defaulted->not_before, absl::Hours(1));
}

TEST_F(CertificateIssuanceTest, AgentWithoutACaAnswersUnavailable) {
  server_->Stop();
  auto server = StartServer(nullptr);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(client_->Issue(kCart, csr_, absl::Hours(1)).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(MetricValue(metrics_, "weft_node_api_certificates_total{result=\"error\"}"), 1);
}

// An agent may start before its first valid config: the CA must not mint a root for a guessed
// trust domain, and opens as soon as the config is there.
TEST(LazyNodeLocalCaTest, OpensWithTheFirstConfigsTrustDomain) {
  ca::testing::TempDir dir;
  config::SnapshotStore store;
  agent::nodeapi::LazyNodeLocalCa lazy(
      {.ca_dir = dir.File("ca"), .node = "node-a", .store = &store});
  NodeApiOptions options;
  options.socket_path = dir.File("node-api.sock");
  options.node = "node-a";
  options.store = &store;
  options.ca_source = [&lazy] { return lazy.Get(); };
  auto server = NodeApiServer::Create(std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = CertificateClient::Create({.socket_path = dir.File("node-api.sock")});
  ASSERT_TRUE(client.ok());
  auto key = ca::testing::GenerateEcKey("P-256");
  const std::string csr = ca::testing::MakeCsr(key.get());

  EXPECT_EQ((*client)->Issue(kCart, csr, absl::Hours(1)).status().code(),
            absl::StatusCode::kUnavailable);
  struct stat st;
  EXPECT_NE(stat(dir.File("ca/ca.key").c_str(), &st), 0) << "root minted before any config";

  store.Publish(MakeConfig("example.org", {{"uid-cart", "shop", "cart", "node-a"}}), "test");
  auto issued = (*client)->Issue(kCart, csr, absl::Hours(1));
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_TRUE(ChainVerifies(issued->cert_chain_pem, issued->trust_bundle_pem));
}

TEST(CertificateClientTest, AbsentAgentFailsWithinTheDeadline) {
  ca::testing::TempDir dir;
  auto client = CertificateClient::Create(
      {.socket_path = dir.File("absent.sock"), .deadline = absl::Milliseconds(300)});
  ASSERT_TRUE(client.ok());
  const absl::Time start = absl::Now();
  auto issued = (*client)->Issue(kCart, "csr", absl::Hours(1));
  EXPECT_EQ(issued.status().code(), absl::StatusCode::kDeadlineExceeded) << issued.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

}  // namespace
}  // namespace weft
