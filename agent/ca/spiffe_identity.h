// Which identities the local CA may put in a certificate.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace weft::ca {

// OK when `identity` is exactly "spiffe://<trust_domain>/ns/<namespace>/sa/<service-account>"
// with concrete (non-wildcard) segments. InvalidArgument for a malformed ID or a wildcard,
// PermissionDenied for another trust domain: this CA only vouches for its own.
absl::Status CheckIssuableIdentity(const std::string& identity, const std::string& trust_domain);

}  // namespace weft::ca
