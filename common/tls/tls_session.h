// One TLS 1.3 connection driven entirely in memory: ztunnel does its socket I/O on io_uring, so
// ciphertext from the network is pushed in with OnCiphertext() and ciphertext to send is pulled
// out with TakeCiphertext(). No file descriptor is ever given to OpenSSL.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls/network_bios.h"
#include "common/tls/openssl_handles.h"
#include "common/tls/peer_verification.h"
#include "common/tls/tls_context.h"

namespace weft::tls {

// Not thread-safe: a session lives on one worker thread. Each call starts with a clean OpenSSL
// error queue and leaves it empty, so one connection's failure never shows up in another's.
//
// Error codes of OnCiphertext / WritePlaintext (the connection must then be closed, after sending
// whatever TakeCiphertext() still holds, typically an alert):
//   PermissionDenied   peer certificate/identity refused, peer sent none, or peer refused ours;
//   InvalidArgument    bytes that are not TLS, or a protocol violation;
//   FailedPrecondition nothing in common (TLS version, ciphers, ALPN), or a call after a failure
//                      or after Shutdown();
//   Unavailable        the peer aborted the connection with another alert;
//   Internal           OpenSSL failed for a reason unrelated to the peer.
class TlsSession {
 public:
  static absl::StatusOr<std::unique_ptr<TlsSession>> Create(
      std::shared_ptr<const TlsContext> context);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Client only, before StartHandshake: the SPIFFE ID the server must present; empty = any
  // identity of the trust domain.
  void SetExpectedPeerIdentity(std::string identity);
  // Client: puts the ClientHello into the output. Server: no-op.
  absl::Status StartHandshake();
  // Bytes received from the network (any split: partial records are kept until complete).
  // Appends decrypted application bytes to *plaintext (may be none; must not be null). Drives
  // the handshake.
  absl::Status OnCiphertext(std::string_view data, std::string* plaintext);
  // Same, handing each decrypted record to `on_plaintext` as it comes (no buffer grows). An
  // error from `on_plaintext` stops the decryption and is returned as is; the session itself
  // stays usable. The callback may write (WritePlaintext) but not feed more ciphertext.
  absl::Status OnCiphertext(std::string_view data,
                            absl::FunctionRef<absl::Status(std::string_view)> on_plaintext);
  // Encrypts application bytes; before the handshake completes they are buffered and sent after.
  absl::Status WritePlaintext(std::string_view data);
  // Appends ciphertext to send to *out; returns the number of bytes appended.
  size_t TakeCiphertext(std::string* out);
  bool has_ciphertext() const;
  // Sends close_notify (into the output). Before the handshake completed there is nothing to
  // close politely; the session is just marked closed.
  void Shutdown();

  bool handshake_complete() const { return handshake_complete_; }
  bool peer_closed() const { return peer_closed_; }  // close_notify received
  // Verified SPIFFE ID, set once handshake_complete().
  const std::string& peer_identity() const { return verification_.verified_identity; }
  absl::Time peer_not_after() const { return verification_.verified_not_after; }
  std::string_view cipher_name() const { return cipher_name_; }  // "TLS_AES_128_GCM_SHA256"
  std::string_view alpn() const { return alpn_; }  // negotiated protocol ("h2") or empty

 private:
  TlsSession(std::shared_ptr<const TlsContext> context, SslPtr ssl);

  absl::Status Fail(absl::Status status);
  absl::Status ContinueHandshake();
  absl::Status OnHandshakeComplete();
  absl::Status ReadPlaintext(absl::FunctionRef<absl::Status(std::string_view)> on_plaintext);
  absl::Status Encrypt(std::string_view data);
  void ReleaseLargeIdleBuffers();

  // Destroyed in reverse order: the SSL first, then the buffers its BIOs and the state its
  // verify callback point to, then the context whose SSL_CTX the SSL was made from.
  std::shared_ptr<const TlsContext> context_;
  PeerVerification verification_;
  LentInput input_;         // ciphertext received, read by OpenSSL through ssl_'s rbio
  std::string ciphertext_;  // records OpenSSL wrote through ssl_'s wbio, not yet taken
  SslPtr ssl_;
  std::string pending_plaintext_;  // written before the handshake completed
  absl::Status failure_;           // first failure; every later call returns it
  bool handshake_complete_ = false;
  bool peer_closed_ = false;
  bool shut_down_ = false;
  std::string_view cipher_name_;  // static storage inside OpenSSL
  std::string alpn_;
};

}  // namespace weft::tls
