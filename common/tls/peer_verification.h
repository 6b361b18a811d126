// The SPIFFE half of peer verification. OpenSSL verifies the chain against the trust bundle;
// this adds what X.509 path validation knows nothing about: the leaf must carry exactly one
// spiffe:// URI SAN in our trust domain, and (client side, when set) the identity we dialled.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/tls/openssl_handles.h"

namespace weft::tls {

// Per connection; owned by the TlsSession, reached from OpenSSL's verify callback.
struct PeerVerification {
  std::string trust_domain;
  std::string expected_identity;  // empty: any identity of the trust domain
  std::string verified_identity;  // set once the leaf passed every check
  absl::Time verified_not_after;
  // Our own refusal (PermissionDenied), which OpenSSL's error queue cannot express; the
  // handshake failure is reported with it rather than with "certificate verify failed".
  absl::Status refusal;
};

// Sets SSL_VERIFY_PEER (| SSL_VERIFY_FAIL_IF_NO_PEER_CERT when `require_certificate`) and the
// callback on `ssl`. `state` must outlive every handshake step of `ssl`.
void InstallPeerVerification(SSL* ssl, bool require_certificate, PeerVerification* state);

}  // namespace weft::tls
