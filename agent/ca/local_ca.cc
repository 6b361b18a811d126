#include "agent/ca/local_ca.h"

#include <openssl/err.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/ca/certificate_fields.h"
#include "agent/ca/csr_verification.h"
#include "agent/ca/pem_file_io.h"
#include "agent/ca/root_authority.h"
#include "agent/ca/spiffe_identity.h"
#include "common/config/value_checks.h"
#include "common/tls/openssl_error.h"

namespace weft::ca {
namespace {

constexpr absl::Duration kBackdate = absl::Minutes(1);

// Returns true/false for existence; any other stat() failure is an error.
absl::StatusOr<bool> Exists(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return absl::InternalError(absl::StrCat("stat ", path, ": ", std::strerror(errno)));
}

absl::Time WholeSeconds(absl::Time t) { return absl::FromTimeT(absl::ToTimeT(t)); }

}  // namespace

absl::StatusOr<std::unique_ptr<LocalCa>> LocalCa::Create(LocalCaOptions options) {
  if (std::string problem = weft::config::CheckDnsSubdomain(options.trust_domain);
      !problem.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("trust_domain: ", problem));
  }
  if (options.root_key_path.empty() || options.root_cert_path.empty()) {
    return absl::InvalidArgumentError("root_key_path and root_cert_path are required");
  }
  if (options.root_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("root_ttl must be positive");
  }
  if (!options.clock) return absl::InvalidArgumentError("clock is required");
  if (!options.authorizer) {
    return absl::InvalidArgumentError(
        "authorizer is required: the CA must not certify identities without a pod on the node");
  }

  absl::StatusOr<bool> key_exists = Exists(options.root_key_path);
  if (!key_exists.ok()) return key_exists.status();
  absl::StatusOr<bool> cert_exists = Exists(options.root_cert_path);
  if (!cert_exists.ok()) return cert_exists.status();

  absl::StatusOr<RootAuthority> root;
  if (*key_exists && *cert_exists) {
    root = LoadRoot(options.root_key_path, options.root_cert_path, options.trust_domain);
  } else if (*key_exists) {
    root = absl::FailedPreconditionError(absl::StrCat(
        "root key ", options.root_key_path, " exists but root certificate ", options.root_cert_path,
        " does not; restore the certificate or remove the key"));
  } else {
    root = CreateRoot(options.root_key_path, options.root_cert_path, options.trust_domain,
                      options.clock(), options.root_ttl);
  }
  if (!root.ok()) return root.status();

  absl::StatusOr<absl::Time> not_after = tls::NotAfter(root->cert.get());
  if (!not_after.ok()) return not_after.status();
  absl::StatusOr<std::string> pem = tls::CertificateToPem(root->cert.get());
  if (!pem.ok()) return pem.status();
  return std::unique_ptr<LocalCa>(new LocalCa(std::move(options), std::move(root->key),
                                              std::move(root->cert), *std::move(pem), *not_after));
}

LocalCa::LocalCa(LocalCaOptions options, tls::EvpPkeyPtr root_key, tls::X509Ptr root_cert,
                 std::string root_pem, absl::Time root_not_after)
    : options_(std::move(options)),
      root_key_(std::move(root_key)),
      root_cert_(std::move(root_cert)),
      root_pem_(std::move(root_pem)),
      root_not_after_(root_not_after) {}

absl::StatusOr<IssuedCertificate> LocalCa::Sign(const std::string& csr_pem,
                                                const std::string& identity,
                                                absl::Duration ttl) const {
  if (ttl <= absl::ZeroDuration()) return absl::InvalidArgumentError("ttl must be positive");
  if (absl::Status s = CheckIssuableIdentity(identity, options_.trust_domain); !s.ok()) return s;
  absl::StatusOr<tls::EvpPkeyPtr> leaf_key = VerifiedCsrPublicKey(csr_pem);
  if (!leaf_key.ok()) return leaf_key.status();
  // Asked last among the checks so that the agent only looks up well-formed requests.
  if (absl::Status s = options_.authorizer(identity); !s.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("identity ", identity, " refused: ", s.message()));
  }

  const absl::Time now = options_.clock();
  if (now >= root_not_after_) {
    return absl::FailedPreconditionError("the root certificate has expired");
  }
  const absl::Time not_before = WholeSeconds(now - kBackdate);
  // A leaf outliving its root would fail verification anyway; cap it so callers rotate in time.
  const absl::Time not_after = WholeSeconds(std::min(now + ttl, root_not_after_));

  ERR_clear_error();
  tls::X509Ptr cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_pubkey(cert.get(), leaf_key->get()) != 1 ||
      X509_set_issuer_name(cert.get(), X509_get_subject_name(root_cert_.get())) != 1) {
    return tls::OpenSslInternal("allocating the leaf certificate");
  }
  // Empty subject as in SPIFFE X509-SVIDs; RFC 5280 then requires a critical SAN.
  if (absl::Status s = SetRandomSerial(cert.get()); !s.ok()) return s;
  if (absl::Status s = SetValidity(cert.get(), not_before, not_after); !s.ok()) return s;
  if (absl::Status s = AddBasicConstraints(cert.get(), /*is_ca=*/false); !s.ok()) return s;
  if (absl::Status s = AddKeyUsage(cert.get(), KU_DIGITAL_SIGNATURE); !s.ok()) return s;
  if (absl::Status s = AddServerAndClientAuth(cert.get()); !s.ok()) return s;
  if (absl::Status s = AddSubjectKeyId(cert.get()); !s.ok()) return s;
  if (absl::Status s = AddAuthorityKeyId(cert.get(), root_cert_.get()); !s.ok()) return s;
  if (absl::Status s = AddUriSan(cert.get(), identity, /*critical=*/true); !s.ok()) return s;
  if (X509_sign(cert.get(), root_key_.get(), EVP_sha256()) <= 0) {
    return tls::OpenSslInternal("signing the leaf certificate");
  }
  absl::StatusOr<std::string> pem = tls::CertificateToPem(cert.get());
  if (!pem.ok()) return pem.status();
  return IssuedCertificate{*std::move(pem), root_pem_, not_before, not_after};
}

}  // namespace weft::ca
