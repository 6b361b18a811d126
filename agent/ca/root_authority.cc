#include "agent/ca/root_authority.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/ca/certificate_fields.h"
#include "agent/ca/pem_file_io.h"
#include "common/tls/openssl_error.h"

namespace weft::ca {
namespace {

// Clock skew between nodes: a certificate must not be "not yet valid" for a slightly late peer.
constexpr absl::Duration kBackdate = absl::Minutes(1);

bool IsP256(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {0};
  size_t length = 0;
  return EVP_PKEY_get_group_name(key, group, sizeof(group), &length) == 1 &&
         std::strcmp(group, SN_X9_62_prime256v1) == 0;
}

absl::Status SetRootSubject(X509* cert, const std::string& trust_domain) {
  X509_NAME* name = X509_get_subject_name(cert);
  const std::string cn = "weft local CA";
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(trust_domain.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert, name) != 1) {
    return tls::OpenSslInternal("setting the root certificate's subject");
  }
  return absl::OkStatus();
}

absl::StatusOr<tls::X509Ptr> SelfSign(EVP_PKEY* key, const std::string& trust_domain,
                                      absl::Time now, absl::Duration ttl) {
  tls::X509Ptr cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return tls::OpenSslInternal("allocating the root certificate");
  }
  if (absl::Status s = SetRandomSerial(cert.get()); !s.ok()) return s;
  if (absl::Status s = SetValidity(cert.get(), now - kBackdate, now + ttl); !s.ok()) return s;
  if (absl::Status s = SetRootSubject(cert.get(), trust_domain); !s.ok()) return s;
  if (absl::Status s = AddBasicConstraints(cert.get(), /*is_ca=*/true); !s.ok()) return s;
  if (absl::Status s = AddKeyUsage(cert.get(), KU_KEY_CERT_SIGN | KU_CRL_SIGN); !s.ok()) return s;
  if (absl::Status s = AddSubjectKeyId(cert.get()); !s.ok()) return s;
  if (absl::Status s = AddUriSan(cert.get(), "spiffe://" + trust_domain, /*critical=*/false);
      !s.ok()) {
    return s;
  }
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) {
    return tls::OpenSslInternal("self-signing the root certificate");
  }
  return cert;
}

}  // namespace

absl::StatusOr<RootAuthority> CreateRoot(const std::string& key_path, const std::string& cert_path,
                                         const std::string& trust_domain, absl::Time now,
                                         absl::Duration ttl) {
  ERR_clear_error();
  tls::EvpPkeyPtr key(EVP_EC_gen(SN_X9_62_prime256v1));
  if (key == nullptr) return tls::OpenSslInternal("generating the ECDSA P-256 root key");
  absl::StatusOr<tls::X509Ptr> cert = SelfSign(key.get(), trust_domain, now, ttl);
  if (!cert.ok()) return cert.status();

  absl::StatusOr<std::string> cert_pem = tls::CertificateToPem(cert->get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (absl::Status s = WriteFileAtomically(cert_path, *cert_pem, 0644); !s.ok()) return s;

  absl::StatusOr<std::string> key_pem = tls::PrivateKeyToPem(key.get());
  if (!key_pem.ok()) return key_pem.status();
  absl::Status written = WriteFileAtomically(key_path, *key_pem, 0600);
  WipeString(*key_pem);
  if (!written.ok()) return written;
  return RootAuthority{std::move(key), *std::move(cert)};
}

absl::StatusOr<RootAuthority> LoadRoot(const std::string& key_path, const std::string& cert_path,
                                       const std::string& trust_domain) {
  absl::StatusOr<tls::EvpPkeyPtr> key = ReadPrivateKeyFile(key_path);
  if (!key.ok()) return key.status();
  if (!IsP256(key->get())) {
    return absl::FailedPreconditionError(
        absl::StrCat("root key ", key_path, " is not an ECDSA P-256 key"));
  }
  absl::StatusOr<tls::X509Ptr> cert = ReadCertificateFile(cert_path);
  if (!cert.ok()) return cert.status();
  ERR_clear_error();
  if (EVP_PKEY_eq(X509_get0_pubkey(cert->get()), key->get()) != 1) {
    ERR_clear_error();
    return absl::FailedPreconditionError(
        absl::StrCat("root certificate ", cert_path, " does not match root key ", key_path));
  }
  if (X509_check_ca(cert->get()) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("root certificate ", cert_path, " is not a CA certificate"));
  }
  const std::string expected_uri = "spiffe://" + trust_domain;
  std::vector<std::string> uris = tls::UriSans(cert->get());
  if (uris.size() != 1 || uris[0] != expected_uri) {
    return absl::FailedPreconditionError(absl::StrCat("root certificate ", cert_path,
                                                      " is not for trust domain \"", trust_domain,
                                                      "\" (expected URI SAN ", expected_uri, ")"));
  }
  return RootAuthority{*std::move(key), *std::move(cert)};
}

}  // namespace weft::ca
