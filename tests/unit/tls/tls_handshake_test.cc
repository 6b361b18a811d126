// Mutual TLS between a client and a server session, entirely in memory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "common/tls/tls_context.h"
#include "common/tls/tls_session.h"
#include "tests/unit/tls/tls_test_support.h"

namespace weft::tls::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

class TlsHandshakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::shared_ptr<const TlsContext>> client =
        TlsContext::CreateClient(ca_.Issue(kClientId), Options());
    absl::StatusOr<std::shared_ptr<const TlsContext>> server =
        TlsContext::CreateServer(ca_.Issue(kServerId), Options());
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE(server.ok()) << server.status();
    client_ctx_ = *client;
    server_ctx_ = *server;
  }

  TestCa ca_;
  std::shared_ptr<const TlsContext> client_ctx_;
  std::shared_ptr<const TlsContext> server_ctx_;
};

std::string RandomBytes(size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random() & 0xff);
  return bytes;
}

TEST_F(TlsHandshakeTest, ContextsKnowTheirOwnIdentity) {
  EXPECT_EQ(client_ctx_->identity(), kClientId);
  EXPECT_EQ(server_ctx_->identity(), kServerId);
  EXPECT_EQ(client_ctx_->role(), TlsContext::Role::kClient);
  EXPECT_EQ(server_ctx_->role(), TlsContext::Role::kServer);
  EXPECT_LT(server_ctx_->not_before(), absl::Now());
  EXPECT_GT(server_ctx_->not_after(), absl::Now());
}

TEST_F(TlsHandshakeTest, MutualTlsCarriesOneMebibyteEachWayByteExact) {
  SessionPair pair = StartPair(client_ctx_, server_ctx_);
  ASSERT_TRUE(pair.client && pair.server);
  SessionEndpoint client(pair.client.get());
  SessionEndpoint server(pair.server.get());
  Pump(client, server);
  ASSERT_TRUE(client.status.ok()) << client.status;
  ASSERT_TRUE(server.status.ok()) << server.status;
  ASSERT_TRUE(pair.client->handshake_complete());
  ASSERT_TRUE(pair.server->handshake_complete());

  EXPECT_EQ(pair.client->peer_identity(), kServerId);
  EXPECT_EQ(pair.server->peer_identity(), kClientId);
  EXPECT_GT(pair.client->peer_not_after(), absl::Now());
  EXPECT_EQ(pair.client->cipher_name(), "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(pair.server->cipher_name(), "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(pair.client->alpn(), "h2");
  EXPECT_EQ(pair.server->alpn(), "h2");

  const std::string upstream = RandomBytes(1 << 20, 1);
  const std::string downstream = RandomBytes(1 << 20, 2);
  ASSERT_TRUE(pair.client->WritePlaintext(upstream).ok());
  ASSERT_TRUE(pair.server->WritePlaintext(downstream).ok());
  const size_t moved = Pump(client, server);
  ASSERT_TRUE(client.status.ok()) << client.status;
  ASSERT_TRUE(server.status.ok()) << server.status;
  EXPECT_TRUE(server.received == upstream) << "server got " << server.received.size() << " bytes";
  EXPECT_TRUE(client.received == downstream) << "client got " << client.received.size() << " bytes";
  // Everything crossed the wire as TLS records: payload plus per-record overhead.
  EXPECT_GT(moved, 2u << 20);

  // The megabyte grew the memory buffers, which are then replaced; the connection goes on.
  client.received.clear();
  server.received.clear();
  ASSERT_TRUE(pair.client->WritePlaintext("after").ok());
  ASSERT_TRUE(pair.server->WritePlaintext("burst").ok());
  Pump(client, server);
  EXPECT_EQ(server.received, "after");
  EXPECT_EQ(client.received, "burst");
}

TEST_F(TlsHandshakeTest, CiphertextMayArriveOneByteAtATime) {
  SessionPair pair = StartPair(client_ctx_, server_ctx_);
  ASSERT_TRUE(pair.client && pair.server);
  ASSERT_TRUE(pair.client->WritePlaintext("split").ok());
  std::string server_plaintext;
  std::string client_plaintext;
  for (int round = 0; round < 10; ++round) {
    std::string to_server;
    pair.client->TakeCiphertext(&to_server);
    for (char byte : to_server) {
      ASSERT_TRUE(pair.server->OnCiphertext(std::string_view(&byte, 1), &server_plaintext).ok());
    }
    std::string to_client;
    pair.server->TakeCiphertext(&to_client);
    ASSERT_TRUE(pair.client->OnCiphertext(to_client, &client_plaintext).ok());
    if (to_server.empty() && to_client.empty()) break;
  }
  EXPECT_TRUE(pair.server->handshake_complete());
  EXPECT_EQ(server_plaintext, "split");
}

TEST_F(TlsHandshakeTest, PlaintextWrittenBeforeTheHandshakeIsSentAfterIt) {
  absl::StatusOr<std::unique_ptr<TlsSession>> client = TlsSession::Create(client_ctx_);
  absl::StatusOr<std::unique_ptr<TlsSession>> server = TlsSession::Create(server_ctx_);
  ASSERT_TRUE(client.ok() && server.ok());
  ASSERT_TRUE((*client)->WritePlaintext("CONNECT 10.0.0.1:80").ok());
  ASSERT_TRUE((*client)->StartHandshake().ok());
  std::string hello;
  (*client)->TakeCiphertext(&hello);
  EXPECT_THAT(hello, ::testing::Not(HasSubstr("CONNECT")));
  SessionEndpoint client_end(client->get());
  SessionEndpoint server_end(server->get());
  ASSERT_TRUE(server_end.Receive(hello).ok());
  Pump(client_end, server_end);
  EXPECT_TRUE(client_end.status.ok()) << client_end.status;
  EXPECT_EQ(server_end.received, "CONNECT 10.0.0.1:80");
}

TEST_F(TlsHandshakeTest, ShutdownDeliversCloseNotify) {
  SessionPair pair = StartPair(client_ctx_, server_ctx_);
  ASSERT_TRUE(pair.client && pair.server);
  SessionEndpoint client(pair.client.get());
  SessionEndpoint server(pair.server.get());
  Pump(client, server);
  ASSERT_TRUE(pair.server->handshake_complete());
  EXPECT_FALSE(pair.server->peer_closed());

  ASSERT_TRUE(pair.client->WritePlaintext("last words").ok());
  pair.client->Shutdown();
  EXPECT_TRUE(pair.client->has_ciphertext());
  Pump(client, server);
  EXPECT_TRUE(server.status.ok()) << server.status;
  EXPECT_EQ(server.received, "last words");
  EXPECT_TRUE(pair.server->peer_closed());
  EXPECT_FALSE(pair.client->peer_closed());
  EXPECT_EQ(pair.client->WritePlaintext("more").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TlsHandshakeTest, ServerAcceptsAnyIdentityOfTheTrustDomainWhenNoneIsExpected) {
  SessionPair pair = StartPair(client_ctx_, server_ctx_, /*expected_server=*/"");
  ASSERT_TRUE(pair.client && pair.server);
  SessionEndpoint client(pair.client.get());
  SessionEndpoint server(pair.server.get());
  Pump(client, server);
  EXPECT_TRUE(client.status.ok()) << client.status;
  EXPECT_EQ(pair.client->peer_identity(), kServerId);
}

TEST_F(TlsHandshakeTest, ClientWithoutAlpnIsServedWithNoProtocol) {
  TlsOptions no_alpn = Options();
  no_alpn.alpn.clear();
  absl::StatusOr<std::shared_ptr<const TlsContext>> client =
      TlsContext::CreateClient(ca_.Issue(kClientId), no_alpn);
  ASSERT_TRUE(client.ok()) << client.status();
  SessionPair pair = StartPair(*client, server_ctx_);
  ASSERT_TRUE(pair.client && pair.server);
  SessionEndpoint client_end(pair.client.get());
  SessionEndpoint server_end(pair.server.get());
  Pump(client_end, server_end);
  EXPECT_TRUE(server_end.status.ok()) << server_end.status;
  EXPECT_TRUE(pair.server->handshake_complete());
  EXPECT_EQ(pair.server->alpn(), "");
}

TEST_F(TlsHandshakeTest, ClientOfferingOnlyOtherProtocolsIsRefused) {
  TlsOptions http1 = Options();
  http1.alpn = {"http/1.1"};
  absl::StatusOr<std::shared_ptr<const TlsContext>> client =
      TlsContext::CreateClient(ca_.Issue(kClientId), http1);
  ASSERT_TRUE(client.ok()) << client.status();
  SessionPair pair = StartPair(*client, server_ctx_);
  ASSERT_TRUE(pair.client && pair.server);
  SessionEndpoint client_end(pair.client.get());
  SessionEndpoint server_end(pair.server.get());
  Pump(client_end, server_end);
  EXPECT_EQ(server_end.status.code(), absl::StatusCode::kFailedPrecondition) << server_end.status;
  EXPECT_THAT(server_end.status.message(), AnyOf(HasSubstr("ALPN"), HasSubstr("application")));
  EXPECT_FALSE(client_end.status.ok());
}

}  // namespace
}  // namespace weft::tls::testing
