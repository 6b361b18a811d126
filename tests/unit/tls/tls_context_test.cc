// What TlsContext::Create* refuses, and the key/CSR/certificate helpers it is fed with.
#include "common/tls/tls_context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/tls/key_and_csr.h"
#include "common/tls/spiffe_certificate.h"
#include "tests/unit/tls/tls_test_support.h"

namespace weft::tls::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(TlsContextTest, RefusesAnExpiredOwnCertificate) {
  TestCa ca;
  ca.now = absl::Now() - absl::Hours(48);
  Credentials expired = ca.Issue(kServerId, absl::Hours(1));
  absl::StatusOr<std::shared_ptr<const TlsContext>> server =
      TlsContext::CreateServer(expired, Options());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition) << server.status();
  EXPECT_THAT(server.status().message(), HasSubstr("never presented"));
  absl::StatusOr<std::shared_ptr<const TlsContext>> client =
      TlsContext::CreateClient(expired, Options());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kFailedPrecondition) << client.status();
}

TEST(TlsContextTest, RefusesACertificateNotYetValidByTheConfiguredClock) {
  TestCa ca;
  Credentials fresh = ca.Issue(kServerId);
  TlsOptions options = Options();
  options.clock = [] { return absl::Now() - absl::Hours(1); };
  absl::StatusOr<std::shared_ptr<const TlsContext>> server =
      TlsContext::CreateServer(fresh, options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition) << server.status();
}

TEST(TlsContextTest, RefusesAKeyThatDoesNotMatchTheCertificate) {
  TestCa ca;
  Credentials server = ca.Issue(kServerId);
  Credentials other = ca.Issue(kClientId);
  server.private_key_pem = other.private_key_pem;
  absl::StatusOr<std::shared_ptr<const TlsContext>> ctx =
      TlsContext::CreateServer(server, Options());
  EXPECT_EQ(ctx.status().code(), absl::StatusCode::kInvalidArgument) << ctx.status();
  EXPECT_THAT(ctx.status().message(), HasSubstr("does not match"));
  EXPECT_THAT(ctx.status().message(), Not(HasSubstr("-----BEGIN")));
  EXPECT_THAT(ctx.status().message(), Not(HasSubstr(other.private_key_pem.substr(28, 20))));
}

TEST(TlsContextTest, RefusesUnparsablePem) {
  TestCa ca;
  Credentials good = ca.Issue(kServerId);
  for (int field = 0; field < 3; ++field) {
    Credentials broken = good;
    std::string* target = field == 0   ? &broken.cert_chain_pem
                          : field == 1 ? &broken.private_key_pem
                                       : &broken.trust_bundle_pem;
    *target = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    absl::StatusOr<std::shared_ptr<const TlsContext>> ctx =
        TlsContext::CreateClient(broken, Options());
    EXPECT_EQ(ctx.status().code(), absl::StatusCode::kInvalidArgument)
        << "field " << field << ": " << ctx.status();
    EXPECT_THAT(ctx.status().message(), Not(HasSubstr("bm90IGEgY2VydGlmaWNhdGU")));
  }
}

TEST(TlsContextTest, RefusesACertificateOfAnotherTrustDomain) {
  TestCa ca("other.example");
  Credentials foreign = ca.Issue("spiffe://other.example/ns/back/sa/db");
  absl::StatusOr<std::shared_ptr<const TlsContext>> ctx =
      TlsContext::CreateServer(foreign, Options());
  EXPECT_EQ(ctx.status().code(), absl::StatusCode::kInvalidArgument) << ctx.status();
  EXPECT_THAT(ctx.status().message(), HasSubstr("cluster.local"));
}

TEST(TlsContextTest, RefusesAnEmptyTrustDomain) {
  TestCa ca;
  TlsOptions options = Options();
  options.trust_domain = "";
  EXPECT_EQ(TlsContext::CreateServer(ca.Issue(kServerId), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KeyAndCsrTest, CsrIsAcceptedByTheLocalCaAndTheCertificateNamesTheIdentity) {
  TestCa ca;
  Credentials issued = ca.Issue(kClientId, absl::Hours(2));
  absl::StatusOr<std::string> identity = IdentityOfCertificate(issued.cert_chain_pem);
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(*identity, kClientId);
  absl::StatusOr<absl::Time> not_after = NotAfterOfCertificate(issued.cert_chain_pem);
  ASSERT_TRUE(not_after.ok()) << not_after.status();
  EXPECT_GT(*not_after, absl::Now() + absl::Minutes(110));
  EXPECT_LE(*not_after, absl::Now() + absl::Hours(2));
  EXPECT_TRUE(issued.private_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
}

TEST(KeyAndCsrTest, EveryCallMakesANewKey) {
  absl::StatusOr<KeyAndCsr> first = GenerateKeyAndCsr(kClientId);
  absl::StatusOr<KeyAndCsr> second = GenerateKeyAndCsr(kClientId);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->private_key_pem, second->private_key_pem);
  EXPECT_TRUE(first->csr_pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
}

TEST(KeyAndCsrTest, RefusesANonSpiffeIdentity) {
  EXPECT_EQ(GenerateKeyAndCsr("https://example.com").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SpiffeCertificateTest, IdentityOfGarbageIsInvalidArgument) {
  EXPECT_EQ(IdentityOfCertificate("hello").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NotAfterOfCertificate("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SpiffeCertificateTest, CheckTrustDomainNeedsTheWholeDomain) {
  EXPECT_TRUE(CheckTrustDomain("spiffe://cluster.local/ns/a/sa/b", "cluster.local").ok());
  EXPECT_EQ(CheckTrustDomain("spiffe://cluster.local.evil/ns/a/sa/b", "cluster.local").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckTrustDomain("spiffe://cluster.localx/ns/a/sa/b", "cluster.local").code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace weft::tls::testing
