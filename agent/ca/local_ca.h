// The agent's in-process certificate authority (local mode): one ECDSA P-256 root kept in a
// 0600 file, issuing short-lived SPIFFE X.509 certificates to ztunnel from CSRs.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls/openssl_handles.h"

namespace weft::ca {

// Decides whether `identity` may be certified right now; the agent answers from the pods it
// sees on this node. Any non-OK answer refuses the request. Called from Sign(), so it must be
// as thread-safe as Sign()'s callers need.
using IdentityAuthorizer = std::function<absl::Status(const std::string& identity)>;

struct LocalCaOptions {
  std::string root_key_path;
  std::string root_cert_path;
  std::string trust_domain;  // e.g. "cluster.local"
  absl::Duration root_ttl = absl::Hours(24 * 365 * 10);
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // Required: a CA that certifies whatever it is asked is refused at Create().
  IdentityAuthorizer authorizer;
};

struct IssuedCertificate {
  std::string cert_chain_pem;    // the leaf; the root is in trust_bundle_pem
  std::string trust_bundle_pem;  // the root certificate
  absl::Time not_before;
  absl::Time not_after;
};

class LocalCa {
 public:
  // Loads the root if both files exist (the key file must be mode 0600 or stricter and match
  // the certificate); creates both if the key file is missing. A key without its certificate
  // is refused rather than overwritten: the key may be an operator's only copy.
  static absl::StatusOr<std::unique_ptr<LocalCa>> Create(LocalCaOptions options);

  // Issues a certificate for `identity` to the key in `csr_pem`. Nothing but the public key
  // is taken from the CSR. Errors: InvalidArgument (CSR, key type, identity format, ttl),
  // PermissionDenied (other trust domain, authorizer refusal), FailedPrecondition (root
  // expired). Thread-safe as long as the authorizer is.
  absl::StatusOr<IssuedCertificate> Sign(const std::string& csr_pem, const std::string& identity,
                                         absl::Duration ttl) const;

  const std::string& trust_bundle_pem() const { return root_pem_; }
  absl::Time root_not_after() const { return root_not_after_; }

 private:
  LocalCa(LocalCaOptions options, tls::EvpPkeyPtr root_key, tls::X509Ptr root_cert,
          std::string root_pem, absl::Time root_not_after);

  LocalCaOptions options_;
  tls::EvpPkeyPtr root_key_;
  tls::X509Ptr root_cert_;
  std::string root_pem_;
  absl::Time root_not_after_;
};

}  // namespace weft::ca
