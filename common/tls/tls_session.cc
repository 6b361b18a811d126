#include "common/tls/tls_session.h"

#include <openssl/err.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/tls/network_bios.h"
#include "common/tls/openssl_error.h"
#include "common/tls/tls_failure_status.h"

namespace weft::tls {
namespace {

// One TLS record's worth of plaintext per SSL_read; also the unit BIO_write/SSL_write take (int
// lengths in OpenSSL).
constexpr size_t kChunk = 16 * 1024;

// A string keeps the largest buffer it ever needed. ztunnel holds thousands of idle pooled
// connections, so one burst must not pin a megabyte per connection: a drained input or output
// buffer that grew past this is handed back to the allocator.
constexpr size_t kRetainedBioBytes = 64 * 1024;

bool WouldBlock(int ssl_error) {
  return ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsSession>> TlsSession::Create(
    std::shared_ptr<const TlsContext> context) {
  if (context == nullptr) return absl::InvalidArgumentError("TlsSession needs a TlsContext");
  ERR_clear_error();
  SslPtr ssl(SSL_new(context->ssl_ctx()));
  if (ssl == nullptr) return OpenSslInternal("allocating an SSL connection");
  // The constructor points the BIOs at input_ and ciphertext_.
  BIO* network_in = NewLentInputBio(nullptr);
  BIO* network_out = NewAppendBio(nullptr);
  if (network_in == nullptr || network_out == nullptr) {
    BIO_free(network_in);
    BIO_free(network_out);
    return OpenSslInternal("allocating the network BIOs");
  }
  SSL_set_bio(ssl.get(), network_in, network_out);  // `ssl` owns both from here.
  if (context->role() == TlsContext::Role::kServer) {
    SSL_set_accept_state(ssl.get());
  } else {
    SSL_set_connect_state(ssl.get());
  }
  return std::unique_ptr<TlsSession>(new TlsSession(std::move(context), std::move(ssl)));
}

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, SslPtr ssl)
    : context_(std::move(context)), ssl_(std::move(ssl)) {
  BIO_set_data(SSL_get_rbio(ssl_.get()), &input_);
  BIO_set_data(SSL_get_wbio(ssl_.get()), &ciphertext_);
  verification_.trust_domain = context_->trust_domain();
  InstallPeerVerification(ssl_.get(), context_->role() == TlsContext::Role::kServer,
                          &verification_);
}

TlsSession::~TlsSession() = default;

void TlsSession::SetExpectedPeerIdentity(std::string identity) {
  verification_.expected_identity = std::move(identity);
}

absl::Status TlsSession::StartHandshake() {
  if (!failure_.ok()) return failure_;
  if (context_->role() == TlsContext::Role::kServer) return absl::OkStatus();
  return ContinueHandshake();
}

absl::Status TlsSession::OnCiphertext(std::string_view data, std::string* plaintext) {
  return OnCiphertext(data, [plaintext](std::string_view bytes) {
    plaintext->append(bytes);
    return absl::OkStatus();
  });
}

absl::Status TlsSession::OnCiphertext(
    std::string_view data, absl::FunctionRef<absl::Status(std::string_view)> on_plaintext) {
  if (!failure_.ok()) return failure_;
  input_.Lend(data);
  absl::Status status = handshake_complete_ ? absl::OkStatus() : ContinueHandshake();
  if (status.ok() && handshake_complete_) status = ReadPlaintext(on_plaintext);
  input_.EndLoan();
  ReleaseLargeIdleBuffers();
  return status;
}

absl::Status TlsSession::WritePlaintext(std::string_view data) {
  if (!failure_.ok()) return failure_;
  if (shut_down_) return absl::FailedPreconditionError("write on a TLS session after Shutdown()");
  if (!handshake_complete_) {
    pending_plaintext_.append(data);
    return absl::OkStatus();
  }
  return Encrypt(data);
}

size_t TlsSession::TakeCiphertext(std::string* out) {
  const size_t n = ciphertext_.size();
  if (n == 0) return 0;
  if (out->empty()) {
    out->swap(ciphertext_);
  } else {
    out->append(ciphertext_);
  }
  ciphertext_.clear();
  ReleaseLargeIdleBuffers();
  return n;
}

void TlsSession::ReleaseLargeIdleBuffers() {
  input_.ReleaseIfLarger(kRetainedBioBytes);
  if (ciphertext_.empty() && ciphertext_.capacity() > kRetainedBioBytes) {
    std::string().swap(ciphertext_);
  }
}

bool TlsSession::has_ciphertext() const { return !ciphertext_.empty(); }

void TlsSession::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (!handshake_complete_ || !failure_.ok()) return;
  ERR_clear_error();
  // Returns 0 ("sent, peer's not yet received"), which is all we want: we do not wait for the
  // peer's close_notify before closing the socket.
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

absl::Status TlsSession::Fail(absl::Status status) {
  ERR_clear_error();
  failure_ = absl::Status(
      status.code(),
      absl::StrCat(handshake_complete_ ? "TLS connection failed: " : "TLS handshake failed: ",
                   status.message()));
  return failure_;
}

absl::Status TlsSession::ContinueHandshake() {
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_.get());
  if (result == 1) return OnHandshakeComplete();
  const int error = SSL_get_error(ssl_.get(), result);
  if (WouldBlock(error)) return absl::OkStatus();
  if (error == SSL_ERROR_SSL) return Fail(TlsFailureStatus(ssl_.get(), verification_));
  return Fail(OpenSslInternal(absl::StrCat("SSL_do_handshake returned SSL_get_error ", error)));
}

absl::Status TlsSession::OnHandshakeComplete() {
  handshake_complete_ = true;
  // The verify callback accepts a leaf only after every check, so an empty identity here means
  // the peer got through without one; never treat such a connection as authenticated.
  if (verification_.verified_identity.empty() || SSL_get_verify_result(ssl_.get()) != X509_V_OK) {
    return Fail(absl::PermissionDeniedError("peer presented no verified SPIFFE identity"));
  }
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_.get()); cipher != nullptr) {
    cipher_name_ = SSL_CIPHER_get_name(cipher);
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl_.get(), &alpn, &alpn_length);
  if (alpn != nullptr) alpn_.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  if (!pending_plaintext_.empty() && !shut_down_) {
    std::string pending = std::move(pending_plaintext_);
    pending_plaintext_.clear();
    return Encrypt(pending);
  }
  return absl::OkStatus();
}

absl::Status TlsSession::ReadPlaintext(
    absl::FunctionRef<absl::Status(std::string_view)> on_plaintext) {
  char record[kChunk];  // one record at a time, handed on at once: never zero-filled or grown
  while (true) {
    ERR_clear_error();
    size_t read = 0;
    const int result = SSL_read_ex(ssl_.get(), record, sizeof(record), &read);
    if (result == 1) {
      if (absl::Status s = on_plaintext(std::string_view(record, read)); !s.ok()) return s;
      if (!failure_.ok()) return failure_;  // the callback's writes broke the session
      continue;
    }
    const int error = SSL_get_error(ssl_.get(), result);
    if (WouldBlock(error)) return absl::OkStatus();
    if (error == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      return absl::OkStatus();
    }
    if (error == SSL_ERROR_SSL) return Fail(TlsFailureStatus(ssl_.get(), verification_));
    return Fail(OpenSslInternal(absl::StrCat("SSL_read returned SSL_get_error ", error)));
  }
}

absl::Status TlsSession::Encrypt(std::string_view data) {
  // Room for the records' headers and tags too, so that appending never regrows the string.
  ciphertext_.reserve(ciphertext_.size() + data.size() + (data.size() / kChunk + 1) * 64);
  while (!data.empty()) {
    ERR_clear_error();
    const size_t chunk = std::min(data.size(), kChunk);
    size_t written = 0;
    // Memory BIOs never push back, so a write either completes or the connection is broken.
    if (SSL_write_ex(ssl_.get(), data.data(), chunk, &written) != 1) {
      return Fail(TlsFailureStatus(ssl_.get(), verification_));
    }
    data.remove_prefix(written);
  }
  return absl::OkStatus();
}

}  // namespace weft::tls
