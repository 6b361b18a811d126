// Peers a session must refuse, each with a Status a log reader understands, an alert for the
// peer where TLS has one, and no effect on a healthy session made from the same contexts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>

#include "absl/strings/str_split.h"
#include "common/tls/tls_context.h"
#include "common/tls/tls_session.h"
#include "tests/unit/tls/tls_test_support.h"

namespace weft::tls::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TlsRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_credentials_ = ca_.Issue(kClientId);
    server_credentials_ = ca_.Issue(kServerId);
    client_ctx_ = MakeClient(client_credentials_);
    server_ctx_ = MakeServer(server_credentials_);
    ASSERT_TRUE(client_ctx_ && server_ctx_);
  }

  static std::shared_ptr<const TlsContext> MakeClient(const Credentials& credentials,
                                                      TlsOptions options = Options()) {
    absl::StatusOr<std::shared_ptr<const TlsContext>> ctx =
        TlsContext::CreateClient(credentials, options);
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    return ctx.ok() ? *ctx : nullptr;
  }
  static std::shared_ptr<const TlsContext> MakeServer(const Credentials& credentials) {
    absl::StatusOr<std::shared_ptr<const TlsContext>> ctx =
        TlsContext::CreateServer(credentials, Options());
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    return ctx.ok() ? *ctx : nullptr;
  }

  std::unique_ptr<TlsSession> NewServerSession() {
    absl::StatusOr<std::unique_ptr<TlsSession>> session = TlsSession::Create(server_ctx_);
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? *std::move(session) : nullptr;
  }

  // A failure in one session must not leak into the next one (OpenSSL's error queue is per
  // thread, shared by every session on it).
  void ExpectHealthySessionStillWorks() {
    EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue left non-empty";
    SessionPair pair = StartPair(client_ctx_, server_ctx_);
    ASSERT_TRUE(pair.client && pair.server);
    SessionEndpoint client(pair.client.get());
    SessionEndpoint server(pair.server.get());
    Pump(client, server);
    ASSERT_TRUE(pair.client->WritePlaintext("ping").ok());
    Pump(client, server);
    EXPECT_TRUE(client.status.ok()) << client.status;
    EXPECT_TRUE(server.status.ok()) << server.status;
    EXPECT_EQ(pair.server->peer_identity(), kClientId);
    EXPECT_EQ(server.received, "ping");
  }

  // Neither PEM armour nor 16 consecutive base64 characters of any key or certificate line may
  // appear in `status`.
  void ExpectNoSecrets(const absl::Status& status) {
    const std::string message(status.message());
    EXPECT_THAT(message, Not(HasSubstr("-----BEGIN")));
    for (const Credentials* credentials : {&client_credentials_, &server_credentials_}) {
      for (const std::string* pem : {&credentials->private_key_pem, &credentials->cert_chain_pem}) {
        std::vector<std::string> lines = absl::StrSplit(*pem, '\n');
        for (const std::string& line : lines) {
          if (line.size() < 16 || line.starts_with("-----")) continue;
          for (size_t at = 0; at + 16 <= line.size(); at += 16) {
            EXPECT_THAT(message, Not(HasSubstr(line.substr(at, 16))));
          }
        }
      }
    }
  }

  TestCa ca_;
  Credentials client_credentials_;
  Credentials server_credentials_;
  std::shared_ptr<const TlsContext> client_ctx_;
  std::shared_ptr<const TlsContext> server_ctx_;
};

TEST_F(TlsRefusalTest, ClientWithoutCertificate) {
  SslCtxPtr raw_ctx = RawClientContext(ca_.root_pem());
  RawClient client(raw_ctx.get());
  std::unique_ptr<TlsSession> server = NewServerSession();
  SessionEndpoint server_end(server.get());
  ASSERT_TRUE(server_end.Receive(client.TakeOutput()).ok());
  client.Receive(server_end.TakeOutput()).IgnoreError();
  absl::Status status = server->OnCiphertext(client.TakeOutput(), &server_end.received);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_THAT(status.message(), HasSubstr("peer sent no certificate"));
  EXPECT_TRUE(server->has_ciphertext()) << "expected a certificate_required alert";
  EXPECT_FALSE(server->handshake_complete());
  EXPECT_EQ(server->peer_identity(), "");
  ExpectNoSecrets(status);
  ExpectHealthySessionStillWorks();
}

TEST_F(TlsRefusalTest, ClientCertificateFromAnotherCa) {
  TestCa other_ca;
  Credentials foreign = other_ca.Issue(kClientId);
  foreign.trust_bundle_pem = ca_.root_pem();  // it trusts our server, we do not trust it
  std::shared_ptr<const TlsContext> foreign_ctx = MakeClient(foreign);
  ASSERT_TRUE(foreign_ctx);
  SessionPair pair = StartPair(foreign_ctx, server_ctx_);
  ASSERT_TRUE(pair.client && pair.server);
  SessionEndpoint client(pair.client.get());
  SessionEndpoint server(pair.server.get());
  Pump(client, server);
  EXPECT_EQ(server.status.code(), absl::StatusCode::kPermissionDenied) << server.status;
  EXPECT_THAT(server.status.message(), HasSubstr("certificate verify failed"));
  // The server's alert reached the client, which now knows why.
  EXPECT_EQ(client.status.code(), absl::StatusCode::kPermissionDenied) << client.status;
  EXPECT_THAT(client.status.message(), HasSubstr("unknown CA"));
  EXPECT_EQ(pair.server->peer_identity(), "");
  ExpectNoSecrets(server.status);
  ExpectNoSecrets(client.status);
  ExpectHealthySessionStillWorks();
}

TEST_F(TlsRefusalTest, ExpiredClientCertificate) {
  ca_.now = absl::Now() - absl::Hours(48);
  Credentials expired = ca_.Issue(kClientId, absl::Hours(1));
  ca_.now = absl::Now();
  // The context itself refuses an expired certificate, so build it as of when it was valid.
  TlsOptions then = Options();
  then.clock = [] { return absl::Now() - absl::Hours(47) - absl::Minutes(30); };
  std::shared_ptr<const TlsContext> expired_ctx = MakeClient(expired, then);
  ASSERT_TRUE(expired_ctx);
  SessionPair pair = StartPair(expired_ctx, server_ctx_);
  ASSERT_TRUE(pair.client && pair.server);
  SessionEndpoint client(pair.client.get());
  SessionEndpoint server(pair.server.get());
  Pump(client, server);
  EXPECT_EQ(server.status.code(), absl::StatusCode::kPermissionDenied) << server.status;
  EXPECT_THAT(server.status.message(),
              HasSubstr("certificate verify failed: certificate has expired"));
  EXPECT_THAT(client.status.message(), HasSubstr("certificate expired"));
  ExpectNoSecrets(server.status);
  ExpectHealthySessionStillWorks();
}

TEST_F(TlsRefusalTest, Tls12OnlyClient) {
  SslCtxPtr raw_ctx = RawClientContext(ca_.root_pem(), TLS1_2_VERSION);
  RawClient client(raw_ctx.get());
  std::unique_ptr<TlsSession> server = NewServerSession();
  std::string plaintext;
  absl::Status status = server->OnCiphertext(client.TakeOutput(), &plaintext);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("unsupported protocol (peer offered TLS 1.2 only"));
  EXPECT_TRUE(server->has_ciphertext()) << "expected a protocol_version alert";
  // Later calls keep reporting the same failure rather than touching a dead connection.
  EXPECT_EQ(server->OnCiphertext("x", &plaintext), status);
  ExpectHealthySessionStillWorks();
}

TEST_F(TlsRefusalTest, PlaintextHttpIntoServer) {
  std::unique_ptr<TlsSession> server = NewServerSession();
  std::string plaintext;
  absl::Status status = server->OnCiphertext("GET / HTTP/1.1\r\nHost: example\r\n\r\n", &plaintext);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("not a TLS record"));
  EXPECT_EQ(plaintext, "");
  ExpectHealthySessionStillWorks();
}

TEST_F(TlsRefusalTest, RandomBytesIntoServer) {
  std::unique_ptr<TlsSession> server = NewServerSession();
  std::string plaintext;
  absl::Status status = server->OnCiphertext(std::string(64, '\x7f'), &plaintext);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("not a TLS record"));
  ExpectHealthySessionStillWorks();
}

TEST_F(TlsRefusalTest, ServerWithAnotherIdentityThanExpected) {
  const std::string expected = "spiffe://cluster.local/ns/back/sa/cache";
  SessionPair pair = StartPair(client_ctx_, server_ctx_, expected);
  ASSERT_TRUE(pair.client && pair.server);
  SessionEndpoint client(pair.client.get());
  SessionEndpoint server(pair.server.get());
  std::string hello = client.TakeOutput();
  ASSERT_TRUE(server.Receive(hello).ok());
  absl::Status status = client.Receive(server.TakeOutput());
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_THAT(status.message(), HasSubstr(std::string("peer identity ") + kServerId +
                                          " does not match expected " + expected));
  EXPECT_TRUE(pair.client->has_ciphertext()) << "expected a certificate alert";
  EXPECT_FALSE(pair.client->handshake_complete());
  EXPECT_EQ(pair.client->peer_identity(), "");
  Pump(client, server);
  EXPECT_EQ(server.status.code(), absl::StatusCode::kPermissionDenied) << server.status;
  EXPECT_THAT(server.status.message(), HasSubstr("bad certificate"));
  EXPECT_FALSE(pair.server->handshake_complete());
  ExpectNoSecrets(status);
  ExpectHealthySessionStillWorks();
}

TEST_F(TlsRefusalTest, ServerOfAnotherTrustDomainIsRefusedEvenWhenItsRootIsTrusted) {
  TestCa foreign_domain_ca("other.example");
  Credentials foreign = foreign_domain_ca.Issue("spiffe://other.example/ns/back/sa/db");
  TlsOptions foreign_options = Options();
  foreign_options.trust_domain = "other.example";
  absl::StatusOr<std::shared_ptr<const TlsContext>> foreign_server =
      TlsContext::CreateServer(foreign, foreign_options);
  ASSERT_TRUE(foreign_server.ok()) << foreign_server.status();
  // Our client trusts both roots, yet refuses an identity outside its own trust domain.
  Credentials trusting = client_credentials_;
  trusting.trust_bundle_pem += foreign_domain_ca.root_pem();
  std::shared_ptr<const TlsContext> client_ctx = MakeClient(trusting);
  SessionPair pair = StartPair(client_ctx, *foreign_server, "");
  ASSERT_TRUE(pair.client && pair.server);
  SessionEndpoint client(pair.client.get());
  SessionEndpoint server(pair.server.get());
  Pump(client, server);
  EXPECT_EQ(client.status.code(), absl::StatusCode::kPermissionDenied) << client.status;
  EXPECT_THAT(client.status.message(), HasSubstr("not in trust domain \"cluster.local\""));
  EXPECT_EQ(server.status.code(), absl::StatusCode::kPermissionDenied) << server.status;
}

TEST_F(TlsRefusalTest, FailedHandshakeStatusesCarryNoPemAndNoKeyBytes) {
  // The server is fed our own credentials' PEM as "ciphertext": the worst case for an error
  // message that echoes its input.
  for (const std::string* input :
       {&client_credentials_.private_key_pem, &server_credentials_.cert_chain_pem}) {
    std::unique_ptr<TlsSession> server = NewServerSession();
    std::string plaintext;
    absl::Status status = server->OnCiphertext(*input, &plaintext);
    EXPECT_FALSE(status.ok());
    ExpectNoSecrets(status);
  }
  // And a verification failure, whose message is built from the peer's certificate.
  SessionPair pair = StartPair(client_ctx_, server_ctx_, "spiffe://cluster.local/ns/x/sa/y");
  ASSERT_TRUE(pair.client && pair.server);
  SessionEndpoint client(pair.client.get());
  SessionEndpoint server(pair.server.get());
  Pump(client, server);
  EXPECT_FALSE(client.status.ok());
  EXPECT_FALSE(server.status.ok());
  ExpectNoSecrets(client.status);
  ExpectNoSecrets(server.status);
}

}  // namespace
}  // namespace weft::tls::testing
