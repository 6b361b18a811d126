// The TLS configuration of one workload identity: our certificate and key, the trust bundle
// peers are verified against, and the TLS 1.3-only policy. One context serves every connection
// of that identity in one role; sessions are made from it with TlsSession::Create.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls/openssl_handles.h"

namespace weft::tls {

struct Credentials {
  std::string cert_chain_pem;    // leaf first, then intermediates
  std::string private_key_pem;   // never logged, never in a Status message
  std::string trust_bundle_pem;  // one or more root certificates
};

struct TlsOptions {
  std::string trust_domain;                // e.g. "cluster.local"; peers must be spiffe://<td>/...
  std::vector<std::string> alpn = {"h2"};  // offered (client) / required-if-offered (server)
  std::function<absl::Time()> clock;       // empty = absl::Now; used to refuse expired own certs
};

// Immutable after creation, shared between threads (SSL_new from one SSL_CTX on several threads
// is fine).
class TlsContext {
 public:
  enum class Role { kClient, kServer };

  // Server: requires a client certificate and verifies it against the trust bundle.
  static absl::StatusOr<std::shared_ptr<const TlsContext>> CreateServer(const Credentials&,
                                                                        const TlsOptions&);
  // Client: presents its certificate, verifies the server's against the trust bundle.
  static absl::StatusOr<std::shared_ptr<const TlsContext>> CreateClient(const Credentials&,
                                                                        const TlsOptions&);
  // Errors: InvalidArgument (unparsable PEM, key/cert mismatch, leaf without exactly one
  // spiffe:// URI SAN, leaf of another trust domain, empty trust domain, bad ALPN entry),
  // FailedPrecondition (own leaf expired or not yet valid: an expired certificate must never be
  // presented). Messages never contain PEM or key bytes.

  Role role() const { return role_; }
  const std::string& identity() const { return identity_; }  // SPIFFE ID of our own leaf
  absl::Time not_before() const { return not_before_; }
  absl::Time not_after() const { return not_after_; }
  const std::string& trust_domain() const { return trust_domain_; }

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // For TlsSession: the SSL_CTX sessions are made from.
  SSL_CTX* ssl_ctx() const { return ctx_.get(); }

 private:
  static absl::StatusOr<std::shared_ptr<const TlsContext>> Create(Role role, const Credentials&,
                                                                  const TlsOptions&);
  TlsContext() = default;

  Role role_ = Role::kClient;
  SslCtxPtr ctx_;
  std::string identity_;
  std::string trust_domain_;
  absl::Time not_before_;
  absl::Time not_after_;
  // ALPN protocols in wire format (length-prefixed), used by the server's selection callback.
  std::string alpn_wire_;
};

}  // namespace weft::tls
