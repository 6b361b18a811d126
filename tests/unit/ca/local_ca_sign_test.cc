// Issuing leaf certificates: what goes in them and what is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/ca/local_ca.h"
#include "tests/unit/ca/ca_test_support.h"

namespace weft::ca {
namespace {

using ::testing::HasSubstr;

constexpr char kIdentity[] = "spiffe://cluster.local/ns/shop/sa/cart";

absl::Time CertTime(const ASN1_TIME* t) {
  struct tm tm = {};
  EXPECT_EQ(ASN1_TIME_to_tm(t, &tm), 1);
  return absl::FromTimeT(timegm(&tm));
}

std::vector<std::pair<int, std::string>> SubjectAltNames(X509* cert) {
  std::vector<std::pair<int, std::string>> out;
  tls::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    const ASN1_STRING* value =
        static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    out.emplace_back(type, std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                                       static_cast<size_t>(ASN1_STRING_length(value))));
  }
  return out;
}

class LocalCaSignTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LocalCaOptions options;
    options.root_key_path = dir_.File("root.key");
    options.root_cert_path = dir_.File("root.crt");
    options.trust_domain = "cluster.local";
    options.root_ttl = absl::Hours(48);
    options.clock = [this] { return clock_.now; };
    options.authorizer = [this](const std::string& identity) {
      asked_.push_back(identity);
      return refuse_ ? absl::NotFoundError("no pod with this service account on the node")
                     : absl::OkStatus();
    };
    absl::StatusOr<std::unique_ptr<LocalCa>> ca = LocalCa::Create(std::move(options));
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = *std::move(ca);
    key_ = testing::GenerateEcKey("P-256");
    ASSERT_NE(key_, nullptr);
  }

  // Verifies `leaf_pem` against the CA root only, at the fake clock's time.
  int Verify(const std::string& leaf_pem, absl::Time at) {
    tls::X509Ptr root = testing::ParseCertificate(ca_->trust_bundle_pem());
    tls::X509Ptr leaf = testing::ParseCertificate(leaf_pem);
    tls::X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), root.get());
    tls::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
    X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
    X509_STORE_CTX_set_time(ctx.get(), 0, absl::ToTimeT(at));
    int ok = X509_verify_cert(ctx.get());
    last_verify_error_ = X509_STORE_CTX_get_error(ctx.get());
    return ok;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<LocalCa> ca_;
  tls::EvpPkeyPtr key_;
  bool refuse_ = false;
  std::vector<std::string> asked_;
  int last_verify_error_ = 0;
};

TEST_F(LocalCaSignTest, IssuesVerifiableLeafForIdentity) {
  absl::StatusOr<IssuedCertificate> issued =
      ca_->Sign(testing::MakeCsr(key_.get()), kIdentity, absl::Hours(24));
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->trust_bundle_pem, ca_->trust_bundle_pem());
  EXPECT_EQ(asked_, std::vector<std::string>{kIdentity});

  ASSERT_EQ(Verify(issued->cert_chain_pem, clock_.now), 1)
      << X509_verify_cert_error_string(last_verify_error_);
  tls::X509Ptr leaf = testing::ParseCertificate(issued->cert_chain_pem);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), key_.get()), 1);

  EXPECT_THAT(SubjectAltNames(leaf.get()),
              ::testing::ElementsAre(std::make_pair(GEN_URI, std::string(kIdentity))));
  int critical = -1;
  tls::BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(leaf.get(), NID_basic_constraints, &critical, nullptr)));
  ASSERT_NE(bc, nullptr);
  EXPECT_EQ(bc->ca, 0);
  EXPECT_EQ(critical, 1);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_NE(X509_get0_subject_key_id(leaf.get()), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(leaf.get()), nullptr);
  tls::X509Ptr root = testing::ParseCertificate(ca_->trust_bundle_pem());
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf.get()),
                                  X509_get0_subject_key_id(root.get())),
            0);

  EXPECT_EQ(CertTime(X509_get0_notBefore(leaf.get())), clock_.now - absl::Minutes(1));
  EXPECT_EQ(CertTime(X509_get0_notAfter(leaf.get())), clock_.now + absl::Hours(24));
  EXPECT_EQ(issued->not_before, clock_.now - absl::Minutes(1));
  EXPECT_EQ(issued->not_after, clock_.now + absl::Hours(24));
  // Expired after its ttl.
  EXPECT_NE(Verify(issued->cert_chain_pem, clock_.now + absl::Hours(25)), 1);
  EXPECT_EQ(last_verify_error_, X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(LocalCaSignTest, TwoLeavesHaveDifferentSerials) {
  std::string csr = testing::MakeCsr(key_.get());
  absl::StatusOr<IssuedCertificate> a = ca_->Sign(csr, kIdentity, absl::Hours(1));
  absl::StatusOr<IssuedCertificate> b = ca_->Sign(csr, kIdentity, absl::Hours(1));
  ASSERT_TRUE(a.ok() && b.ok());
  tls::X509Ptr ca = testing::ParseCertificate(a->cert_chain_pem);
  tls::X509Ptr cb = testing::ParseCertificate(b->cert_chain_pem);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca.get()), X509_get0_serialNumber(cb.get())),
            0);
}

TEST_F(LocalCaSignTest, TtlIsCappedByRootExpiry) {
  clock_.now += absl::Hours(40);  // root (48h) has 8h left
  absl::StatusOr<IssuedCertificate> issued =
      ca_->Sign(testing::MakeCsr(key_.get()), kIdentity, absl::Hours(24));
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->not_after, ca_->root_not_after());
  tls::X509Ptr leaf = testing::ParseCertificate(issued->cert_chain_pem);
  EXPECT_EQ(CertTime(X509_get0_notAfter(leaf.get())), ca_->root_not_after());
  EXPECT_EQ(Verify(issued->cert_chain_pem, clock_.now), 1)
      << X509_verify_cert_error_string(last_verify_error_);
}

TEST_F(LocalCaSignTest, RefusesOnceRootHasExpired) {
  clock_.now += absl::Hours(49);
  EXPECT_EQ(ca_->Sign(testing::MakeCsr(key_.get()), kIdentity, absl::Hours(1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(LocalCaSignTest, IssuesOnlyTheIdentitySanWhateverTheCsrAsks) {
  std::string csr = testing::MakeCsr(key_.get(), {"spiffe://cluster.local/ns/kube-system/sa/admin"},
                                     {"evil.example.com"});
  absl::StatusOr<IssuedCertificate> issued = ca_->Sign(csr, kIdentity, absl::Hours(1));
  ASSERT_TRUE(issued.ok()) << issued.status();
  tls::X509Ptr leaf = testing::ParseCertificate(issued->cert_chain_pem);
  EXPECT_THAT(SubjectAltNames(leaf.get()),
              ::testing::ElementsAre(std::make_pair(GEN_URI, std::string(kIdentity))));
  // Nor the CSR's subject.
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(leaf.get())), 0);
}

TEST_F(LocalCaSignTest, RefusesTamperedCsrSignature) {
  std::string csr = testing::TamperCsrSignature(testing::MakeCsr(key_.get()));
  absl::StatusOr<IssuedCertificate> issued = ca_->Sign(csr, kIdentity, absl::Hours(1));
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(issued.status().message(), HasSubstr("signature"));
  EXPECT_THAT(issued.status().message(), ::testing::Not(HasSubstr("BEGIN")));
  EXPECT_TRUE(asked_.empty());
}

TEST_F(LocalCaSignTest, RefusesRsaCsr) {
  tls::EvpPkeyPtr rsa = testing::GenerateRsaKey();
  absl::StatusOr<IssuedCertificate> issued =
      ca_->Sign(testing::MakeCsr(rsa.get()), kIdentity, absl::Hours(1));
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(issued.status().message(), HasSubstr("P-256"));
}

TEST_F(LocalCaSignTest, RefusesP384Csr) {
  tls::EvpPkeyPtr p384 = testing::GenerateEcKey("P-384");
  absl::StatusOr<IssuedCertificate> issued =
      ca_->Sign(testing::MakeCsr(p384.get()), kIdentity, absl::Hours(1));
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(issued.status().message(), HasSubstr("secp384r1"));
}

TEST_F(LocalCaSignTest, RefusesGarbageCsr) {
  EXPECT_EQ(ca_->Sign("not a csr", kIdentity, absl::Hours(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LocalCaSignTest, RefusesIdentityOfAnotherTrustDomain) {
  absl::StatusOr<IssuedCertificate> issued = ca_->Sign(
      testing::MakeCsr(key_.get()), "spiffe://other.example/ns/shop/sa/cart", absl::Hours(1));
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(issued.status().message(), HasSubstr("cluster.local"));
  EXPECT_TRUE(asked_.empty());
}

TEST_F(LocalCaSignTest, RefusesMalformedAndWildcardIdentities) {
  std::string csr = testing::MakeCsr(key_.get());
  for (const char* identity :
       {"*", "spiffe://cluster.local/ns/shop/sa/*", "spiffe://cluster.local/ns/*/sa/cart",
        "spiffe://cluster.local/ns/shop", "https://cluster.local/ns/shop/sa/cart",
        "spiffe://cluster.local/ns/Shop/sa/cart", ""}) {
    absl::StatusOr<IssuedCertificate> issued = ca_->Sign(csr, identity, absl::Hours(1));
    ASSERT_FALSE(issued.ok()) << identity;
    EXPECT_EQ(issued.status().code(), absl::StatusCode::kInvalidArgument) << identity;
  }
  EXPECT_TRUE(asked_.empty());
}

TEST_F(LocalCaSignTest, AuthorizerRefusalIsPermissionDeniedNamingIdentity) {
  refuse_ = true;
  absl::StatusOr<IssuedCertificate> issued =
      ca_->Sign(testing::MakeCsr(key_.get()), kIdentity, absl::Hours(1));
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(issued.status().message(), HasSubstr(kIdentity));
  EXPECT_THAT(issued.status().message(), HasSubstr("no pod"));
  EXPECT_EQ(asked_, std::vector<std::string>{kIdentity});
}

TEST_F(LocalCaSignTest, RefusesNonPositiveTtl) {
  EXPECT_EQ(
      ca_->Sign(testing::MakeCsr(key_.get()), kIdentity, absl::ZeroDuration()).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weft::ca
