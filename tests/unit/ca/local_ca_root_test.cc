// Creating, reloading and refusing the CA's root files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "agent/ca/local_ca.h"
#include "tests/unit/ca/ca_test_support.h"

namespace weft::ca {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

class LocalCaRootTest : public ::testing::Test {
 protected:
  LocalCaOptions Options(const std::string& prefix = "root") {
    LocalCaOptions options;
    options.root_key_path = dir_.File(prefix + ".key");
    options.root_cert_path = dir_.File(prefix + ".crt");
    options.trust_domain = "cluster.local";
    options.clock = [this] { return clock_.now; };
    options.authorizer = [](const std::string&) { return absl::OkStatus(); };
    return options;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
};

TEST_F(LocalCaRootTest, CreatesRootWithPrivateKeyFileAndReloadsTheSameRoot) {
  absl::StatusOr<std::unique_ptr<LocalCa>> first = LocalCa::Create(Options());
  ASSERT_TRUE(first.ok()) << first.status();

  struct stat st;
  ASSERT_EQ(stat(Options().root_key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_THAT(ReadFile(Options().root_key_path), HasSubstr("PRIVATE KEY"));

  tls::X509Ptr root = testing::ParseCertificate((*first)->trust_bundle_pem());
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(X509_check_ca(root.get()), 1);
  EXPECT_EQ((*first)->root_not_after(),
            absl::FromTimeT(absl::ToTimeT(clock_.now + absl::Hours(24 * 365 * 10))));
  EXPECT_EQ(ReadFile(Options().root_cert_path), (*first)->trust_bundle_pem());

  clock_.now += absl::Hours(1);
  absl::StatusOr<std::unique_ptr<LocalCa>> second = LocalCa::Create(Options());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->trust_bundle_pem(), (*first)->trust_bundle_pem());
}

TEST_F(LocalCaRootTest, RootCertificateHasCaExtensionsAndTrustDomainUri) {
  absl::StatusOr<std::unique_ptr<LocalCa>> ca = LocalCa::Create(Options());
  ASSERT_TRUE(ca.ok()) << ca.status();
  tls::X509Ptr root = testing::ParseCertificate((*ca)->trust_bundle_pem());
  ASSERT_NE(root, nullptr);
  int critical = -1;
  tls::BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(root.get(), NID_basic_constraints, &critical, nullptr)));
  ASSERT_NE(bc, nullptr);
  EXPECT_NE(bc->ca, 0);
  EXPECT_EQ(critical, 1);
  EXPECT_EQ(X509_get_key_usage(root.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_NE(X509_get0_subject_key_id(root.get()), nullptr);
  tls::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(root.get(), NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_NE(names, nullptr);
  ASSERT_EQ(sk_GENERAL_NAME_num(names.get()), 1);
  const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), 0);
  ASSERT_EQ(name->type, GEN_URI);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(
                ASN1_STRING_get0_data(name->d.uniformResourceIdentifier))),
            "spiffe://cluster.local");
  // Two roots never share a serial.
  absl::StatusOr<std::unique_ptr<LocalCa>> other = LocalCa::Create(Options("other"));
  ASSERT_TRUE(other.ok()) << other.status();
  tls::X509Ptr other_root = testing::ParseCertificate((*other)->trust_bundle_pem());
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(root.get()),
                             X509_get0_serialNumber(other_root.get())),
            0);
}

TEST_F(LocalCaRootTest, RefusesKeyFileReadableByOthers) {
  ASSERT_TRUE(LocalCa::Create(Options()).ok());
  ASSERT_EQ(chmod(Options().root_key_path.c_str(), 0644), 0);
  absl::StatusOr<std::unique_ptr<LocalCa>> ca = LocalCa::Create(Options());
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(ca.status().message(), HasSubstr(Options().root_key_path));
  EXPECT_THAT(ca.status().message(), HasSubstr("0644"));
  EXPECT_THAT(ca.status().message(), ::testing::Not(HasSubstr("PRIVATE KEY")));
}

TEST_F(LocalCaRootTest, RefusesCertificateOfAnotherKey) {
  ASSERT_TRUE(LocalCa::Create(Options("a")).ok());
  ASSERT_TRUE(LocalCa::Create(Options("b")).ok());
  LocalCaOptions mixed = Options("a");
  mixed.root_cert_path = Options("b").root_cert_path;
  absl::StatusOr<std::unique_ptr<LocalCa>> ca = LocalCa::Create(mixed);
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ca.status().message(), HasSubstr(mixed.root_cert_path));
  EXPECT_THAT(ca.status().message(), HasSubstr(mixed.root_key_path));
}

TEST_F(LocalCaRootTest, RefusesRootOfAnotherTrustDomain) {
  ASSERT_TRUE(LocalCa::Create(Options()).ok());
  LocalCaOptions options = Options();
  options.trust_domain = "other.example";
  absl::StatusOr<std::unique_ptr<LocalCa>> ca = LocalCa::Create(options);
  ASSERT_FALSE(ca.ok());
  EXPECT_THAT(ca.status().message(), HasSubstr("other.example"));
}

TEST_F(LocalCaRootTest, RefusesToOverwriteKeyWithoutCertificate) {
  ASSERT_TRUE(LocalCa::Create(Options()).ok());
  const std::string key_before = ReadFile(Options().root_key_path);
  ASSERT_EQ(unlink(Options().root_cert_path.c_str()), 0);
  absl::StatusOr<std::unique_ptr<LocalCa>> ca = LocalCa::Create(Options());
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFile(Options().root_key_path), key_before);
}

TEST_F(LocalCaRootTest, RequiresAnAuthorizer) {
  LocalCaOptions options = Options();
  options.authorizer = nullptr;
  EXPECT_EQ(LocalCa::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weft::ca
