// Checks a certificate signing request before anything from it is used.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/tls/openssl_handles.h"

namespace weft::ca {

// Parses a PEM CSR, requires an ECDSA P-256 public key and a valid self-signature (proof that
// the requester holds the private key), and returns that public key. Only the key is taken
// from the CSR; its subject and requested extensions are ignored by design. Errors describe
// the problem, never echo the CSR.
absl::StatusOr<tls::EvpPkeyPtr> VerifiedCsrPublicKey(const std::string& csr_pem);

}  // namespace weft::ca
