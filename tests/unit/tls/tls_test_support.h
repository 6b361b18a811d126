// Real certificates for TLS tests (minted by agent/ca's LocalCa from CSRs made by
// GenerateKeyAndCsr), an in-memory pump between two endpoints, and a raw OpenSSL client for the
// peers a TlsContext would never build (no certificate, TLS 1.2 only).
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/ca/local_ca.h"
#include "common/tls/openssl_handles.h"
#include "common/tls/tls_context.h"
#include "common/tls/tls_session.h"

namespace weft::tls::testing {

inline constexpr char kTrustDomain[] = "cluster.local";
inline constexpr char kClientId[] = "spiffe://cluster.local/ns/front/sa/web";
inline constexpr char kServerId[] = "spiffe://cluster.local/ns/back/sa/db";

// A LocalCa in its own temporary directory; `now` is its clock, so setting it in the past mints
// certificates that are already expired.
class TestCa {
 public:
  explicit TestCa(const std::string& trust_domain = kTrustDomain);
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  // Credentials for `identity` with this CA's root as trust bundle.
  Credentials Issue(const std::string& identity, absl::Duration ttl = absl::Hours(1));
  const std::string& root_pem() const { return ca_->trust_bundle_pem(); }

  absl::Time now = absl::Now();

 private:
  std::string dir_;
  std::unique_ptr<ca::LocalCa> ca_;
};

TlsOptions Options();

// One side of an in-memory connection: a TlsSession or a raw OpenSSL SSL.
class Endpoint {
 public:
  virtual ~Endpoint() = default;
  virtual absl::Status Receive(const std::string& ciphertext) = 0;
  virtual std::string TakeOutput() = 0;
};

class SessionEndpoint : public Endpoint {
 public:
  explicit SessionEndpoint(TlsSession* session) : session_(session) {}
  absl::Status Receive(const std::string& ciphertext) override;
  std::string TakeOutput() override;
  std::string received;  // plaintext
  absl::Status status;   // first failure

 private:
  TlsSession* session_;
};

// A client built straight on OpenSSL with memory BIOs.
class RawClient : public Endpoint {
 public:
  // `ctx` configured by the test (no certificate, TLS 1.2 only, ...). Starts the handshake.
  explicit RawClient(SSL_CTX* ctx);
  absl::Status Receive(const std::string& ciphertext) override;
  std::string TakeOutput() override;
  SSL* ssl() { return ssl_.get(); }

 private:
  SslPtr ssl_;
  BIO* in_;
  BIO* out_;
};

// Moves ciphertext between the two until neither has anything to send; returns the number of
// bytes moved. Failures are kept in the endpoints (SessionEndpoint::status).
size_t Pump(Endpoint& a, Endpoint& b);

// A raw TLS client context: TLS 1.3 only unless `max_version` says otherwise, trusting `root_pem`.
SslCtxPtr RawClientContext(const std::string& root_pem, int max_version = TLS1_3_VERSION);

struct SessionPair {
  std::unique_ptr<TlsSession> client;
  std::unique_ptr<TlsSession> server;
};

// Client and server sessions; the client is started with `expected_server` (may be empty).
SessionPair StartPair(const std::shared_ptr<const TlsContext>& client_ctx,
                      const std::shared_ptr<const TlsContext>& server_ctx,
                      const std::string& expected_server = kServerId);

}  // namespace weft::tls::testing
