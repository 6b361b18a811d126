// Building blocks for the certificates the CA issues: serials, validity, extensions. Extensions
// are built as typed ASN.1 structures rather than from OpenSSL config strings so that no value
// (a SPIFFE ID in particular) is ever parsed as config syntax.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls/openssl_handles.h"
#include "common/tls/spiffe_certificate.h"  // NotAfter, UriSans

namespace weft::ca {

// A random 128-bit serial (RFC 5280 allows up to 20 octets; CA/B asks for 64+ random bits).
absl::Status SetRandomSerial(X509* cert);

// Sets notBefore/notAfter, truncated to whole seconds as X.509 stores them.
absl::Status SetValidity(X509* cert, absl::Time not_before, absl::Time not_after);

// basicConstraints (critical), CA:TRUE or CA:FALSE, no path length.
absl::Status AddBasicConstraints(X509* cert, bool is_ca);
// keyUsage (critical) with the KU_* bits of <openssl/x509v3.h>.
absl::Status AddKeyUsage(X509* cert, int usage_bits);
// extendedKeyUsage serverAuth + clientAuth (not critical).
absl::Status AddServerAndClientAuth(X509* cert);
// subjectKeyIdentifier = SHA-1 of the public key (RFC 5280 method 1); the key must be set.
absl::Status AddSubjectKeyId(X509* cert);
// authorityKeyIdentifier = issuer's subjectKeyIdentifier.
absl::Status AddAuthorityKeyId(X509* cert, X509* issuer);
// subjectAltName with exactly one URI (common/tls builds the name; reading is tls::UriSans).
absl::Status AddUriSan(X509* cert, const std::string& uri, bool critical);

}  // namespace weft::ca
