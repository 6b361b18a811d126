#include "tests/unit/tls/tls_test_support.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <stdlib.h>

#include <filesystem>

#include "common/tls/key_and_csr.h"
#include "common/tls/pem_encoding.h"

namespace weft::tls::testing {

TestCa::TestCa(const std::string& trust_domain) {
  std::string pattern = ::testing::TempDir() + "/weft_tls_XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  dir_ = pattern;
  ca::LocalCaOptions options;
  options.root_key_path = dir_ + "/root.key";
  options.root_cert_path = dir_ + "/root.pem";
  options.trust_domain = trust_domain;
  options.clock = [this] { return now; };
  options.authorizer = [](const std::string&) { return absl::OkStatus(); };
  absl::StatusOr<std::unique_ptr<ca::LocalCa>> ca = ca::LocalCa::Create(std::move(options));
  EXPECT_TRUE(ca.ok()) << ca.status();
  if (ca.ok()) ca_ = *std::move(ca);
}

TestCa::~TestCa() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

Credentials TestCa::Issue(const std::string& identity, absl::Duration ttl) {
  absl::StatusOr<KeyAndCsr> key_and_csr = GenerateKeyAndCsr(identity);
  EXPECT_TRUE(key_and_csr.ok()) << key_and_csr.status();
  if (!key_and_csr.ok() || ca_ == nullptr) return {};
  absl::StatusOr<ca::IssuedCertificate> issued = ca_->Sign(key_and_csr->csr_pem, identity, ttl);
  EXPECT_TRUE(issued.ok()) << issued.status();
  if (!issued.ok()) return {};
  return Credentials{issued->cert_chain_pem, key_and_csr->private_key_pem,
                     issued->trust_bundle_pem};
}

TlsOptions Options() {
  TlsOptions options;
  options.trust_domain = kTrustDomain;
  return options;
}

absl::Status SessionEndpoint::Receive(const std::string& ciphertext) {
  absl::Status s = session_->OnCiphertext(ciphertext, &received);
  if (status.ok()) status = s;
  return s;
}

std::string SessionEndpoint::TakeOutput() {
  std::string out;
  session_->TakeCiphertext(&out);
  return out;
}

RawClient::RawClient(SSL_CTX* ctx) : ssl_(SSL_new(ctx)) {
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in_, -1);
  SSL_set_bio(ssl_.get(), in_, out_);
  SSL_set_connect_state(ssl_.get());
  SSL_do_handshake(ssl_.get());
  ERR_clear_error();
}

absl::Status RawClient::Receive(const std::string& ciphertext) {
  BIO_write(in_, ciphertext.data(), static_cast<int>(ciphertext.size()));
  int result = SSL_do_handshake(ssl_.get());
  if (result == 1) {
    char buffer[4096];
    size_t read = 0;
    result = SSL_read_ex(ssl_.get(), buffer, sizeof(buffer), &read);
  }
  ERR_clear_error();
  return absl::OkStatus();
}

std::string RawClient::TakeOutput() {
  std::string out(BIO_ctrl_pending(out_), '\0');
  if (!out.empty()) BIO_read(out_, out.data(), static_cast<int>(out.size()));
  return out;
}

size_t Pump(Endpoint& a, Endpoint& b) {
  size_t moved = 0;
  for (int round = 0; round < 10000; ++round) {
    std::string from_a = a.TakeOutput();
    if (!from_a.empty()) b.Receive(from_a).IgnoreError();
    std::string from_b = b.TakeOutput();
    if (!from_b.empty()) a.Receive(from_b).IgnoreError();
    moved += from_a.size() + from_b.size();
    if (from_a.empty() && from_b.empty()) return moved;
  }
  ADD_FAILURE() << "pump did not go quiet";
  return moved;
}

SslCtxPtr RawClientContext(const std::string& root_pem, int max_version) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  absl::StatusOr<X509Ptr> root = ParseCertificatePem(root_pem, "root");
  EXPECT_TRUE(root.ok()) << root.status();
  if (root.ok()) X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), root->get());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

SessionPair StartPair(const std::shared_ptr<const TlsContext>& client_ctx,
                      const std::shared_ptr<const TlsContext>& server_ctx,
                      const std::string& expected_server) {
  SessionPair pair;
  absl::StatusOr<std::unique_ptr<TlsSession>> client = TlsSession::Create(client_ctx);
  absl::StatusOr<std::unique_ptr<TlsSession>> server = TlsSession::Create(server_ctx);
  EXPECT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE(server.ok()) << server.status();
  if (!client.ok() || !server.ok()) return pair;
  pair.client = *std::move(client);
  pair.server = *std::move(server);
  pair.client->SetExpectedPeerIdentity(expected_server);
  EXPECT_TRUE(pair.client->StartHandshake().ok());
  EXPECT_TRUE(pair.server->StartHandshake().ok());
  return pair;
}

}  // namespace weft::tls::testing
