// The parts of an X.509 certificate that carry a SPIFFE identity: the URI SAN and the validity
// period. Shared by the agent's CA (which writes them) and TLS peer verification (which reads
// them), so both agree on what "the identity of a certificate" means.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls/openssl_handles.h"

namespace weft::tls {

// The URI entries of the subjectAltName extension, in order.
std::vector<std::string> UriSans(X509* cert);

// A GENERAL_NAMES holding exactly one URI, ready for a subjectAltName extension (certificate or
// CSR). Built as typed ASN.1 so that the URI is never parsed as OpenSSL config syntax.
absl::StatusOr<GeneralNamesPtr> SingleUriGeneralNames(const std::string& uri);

absl::StatusOr<absl::Time> NotBefore(const X509* cert);
absl::StatusOr<absl::Time> NotAfter(const X509* cert);

// The SPIFFE ID of `cert`: it must have exactly one URI SAN and that URI must be
// "spiffe://<domain>/<path>" (InvalidArgument otherwise; the message names what was found,
// which is public certificate content).
absl::StatusOr<std::string> SpiffeIdOf(X509* cert);

// OK when `spiffe_id` lies in `trust_domain` ("spiffe://<trust_domain>/..."); PermissionDenied
// otherwise: a certificate from another trust domain is a refusal, not a parse error.
absl::Status CheckTrustDomain(const std::string& spiffe_id, const std::string& trust_domain);

// The same for a PEM certificate (the first one of a chain).
absl::StatusOr<std::string> IdentityOfCertificate(const std::string& cert_pem);
absl::StatusOr<absl::Time> NotAfterOfCertificate(const std::string& cert_pem);

}  // namespace weft::tls
