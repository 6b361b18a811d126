// Why a TLS connection failed, in words a log reader understands, as an absl::Status.
#pragma once

#include "absl/status/status.h"
#include "common/tls/openssl_handles.h"
#include "common/tls/peer_verification.h"

namespace weft::tls {

// For an SSL_ERROR_SSL from SSL_do_handshake/SSL_read/SSL_write on `ssl`. Drains this thread's
// OpenSSL error queue into the message, so the next connection starts clean. Codes:
//   PermissionDenied   the peer's certificate or identity was refused (or it sent none), or the
//                      peer refused ours (a certificate alert was received);
//   InvalidArgument    the bytes are not TLS ("not a TLS record") or break the protocol;
//   FailedPrecondition nothing to agree on: TLS version, cipher suites, groups, ALPN;
//   Unavailable        the peer aborted with another alert;
//   Internal           OpenSSL failed for a reason unrelated to the peer.
absl::Status TlsFailureStatus(SSL* ssl, const PeerVerification& verification);

}  // namespace weft::tls
