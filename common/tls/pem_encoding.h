// PEM in and out of memory. Parsing never echoes its input into an error: a PEM blob may be a
// private key, and even a certificate is not ours to put in a log line.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/tls/openssl_handles.h"

namespace weft::tls {

// Every certificate in `pem`, in order (leaf first for a chain). InvalidArgument when there is
// none or a block does not parse; `what` names the input in the message ("certificate chain").
absl::StatusOr<std::vector<X509Ptr>> ParseCertificatesPem(const std::string& pem,
                                                          const std::string& what);

// The first certificate of `pem`.
absl::StatusOr<X509Ptr> ParseCertificatePem(const std::string& pem, const std::string& what);

// An unencrypted PEM private key (PKCS#8 or traditional). Encrypted keys are refused rather than
// prompting for a passphrase on a terminal nobody watches.
absl::StatusOr<EvpPkeyPtr> ParsePrivateKeyPem(const std::string& pem);

absl::StatusOr<std::string> CertificateToPem(X509* cert);
// PKCS#8, unencrypted. Encoded through a secure-memory BIO so that only the returned copy holds
// the key; callers that persist it wipe their copy afterwards.
absl::StatusOr<std::string> PrivateKeyToPem(EVP_PKEY* key);

}  // namespace weft::tls
