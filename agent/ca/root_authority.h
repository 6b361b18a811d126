// Creation and loading of the CA's root key and self-signed certificate.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls/openssl_handles.h"

namespace weft::ca {

struct RootAuthority {
  tls::EvpPkeyPtr key;
  tls::X509Ptr cert;
};

// Generates an ECDSA P-256 key and a self-signed CA certificate for `trust_domain` valid from
// now - 1 min to now + ttl, and writes the certificate then the key (the key's rename is the
// commit point: a crash in between leaves a certificate without key, which is regenerated).
absl::StatusOr<RootAuthority> CreateRoot(const std::string& key_path, const std::string& cert_path,
                                         const std::string& trust_domain, absl::Time now,
                                         absl::Duration ttl);

// Loads both files and checks that they belong together, that the certificate is a CA for
// `trust_domain` and that the key is ECDSA P-256. Errors name the offending file.
absl::StatusOr<RootAuthority> LoadRoot(const std::string& key_path, const std::string& cert_path,
                                       const std::string& trust_domain);

}  // namespace weft::ca
