// grpcwire unary calls against a real grpc++ server on a unix socket, and against servers that
// are absent or do not speak gRPC.
#include "common/grpcwire/grpc_channel.h"

#include <gtest/gtest.h>

#include "tests/unit/grpcwire/scripted_node_api.h"

namespace weft::grpcwire {
namespace {

using grpcwire_testing::JunkServer;
using grpcwire_testing::kIssueCertificate;
using grpcwire_testing::ScriptedNodeApi;
using grpcwire_testing::ScriptedServer;
using weft::nodeapi::v1::CertificateRequest;
using weft::nodeapi::v1::CertificateResponse;

std::string Request(const std::string& identity) {
  CertificateRequest request;
  request.set_identity(identity);
  request.set_csr_pem("csr");
  request.set_ttl_seconds(3600);
  return request.SerializeAsString();
}

absl::Time In(absl::Duration d) { return absl::Now() + d; }

class GrpcChannelTest : public ::testing::Test {
 protected:
  std::unique_ptr<GrpcChannel> Connect(GrpcChannelOptions options = {}) {
    auto channel = GrpcChannel::ConnectUnix(server_.socket_path(), absl::Seconds(1), options);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? *std::move(channel) : nullptr;
  }

  ScriptedServer server_;
};

TEST_F(GrpcChannelTest, UnaryCallReturnsTheResponseAndTheChannelServesSeveralCalls) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  for (const char* identity : {"spiffe://a", "spiffe://b", "spiffe://c"}) {
    auto answer = channel->UnaryCall(kIssueCertificate, Request(identity), In(absl::Seconds(5)));
    ASSERT_TRUE(answer.ok()) << answer.status();
    CertificateResponse response;
    ASSERT_TRUE(response.ParseFromString(*answer));
    ASSERT_EQ(response.cert_chain_pem_size(), 1);
    EXPECT_EQ(response.cert_chain_pem(0), std::string("chain for ") + identity + " ttl 3600");
  }
}

TEST_F(GrpcChannelTest, ServerErrorKeepsItsCodeAndDecodedMessage) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  auto answer = channel->UnaryCall(kIssueCertificate, Request("deny"), In(absl::Seconds(5)));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(answer.status().message(), ScriptedNodeApi::kDenyMessage);
  // An error ends the call, not the connection.
  EXPECT_TRUE(channel->UnaryCall(kIssueCertificate, Request("ok"), In(absl::Seconds(5))).ok());
}

TEST_F(GrpcChannelTest, UnknownMethodIsUnimplemented) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  auto answer =
      channel->UnaryCall("/weft.nodeapi.v1.NodeApi/NoSuchMethod", "", In(absl::Seconds(5)));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnimplemented) << answer.status();
}

TEST_F(GrpcChannelTest, ResponseLargerThanWindowsAndFramesArrivesWhole) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  // 3 MB: many 16 KiB DATA frames and several WINDOW_UPDATE round trips.
  auto answer = channel->UnaryCall(kIssueCertificate, Request("big:3000000"), In(absl::Seconds(5)));
  ASSERT_TRUE(answer.ok()) << answer.status();
  CertificateResponse response;
  ASSERT_TRUE(response.ParseFromString(*answer));
  EXPECT_EQ(response.cert_chain_pem(0).size(), 3000000u);
}

TEST_F(GrpcChannelTest, ResponseOverTheLimitIsResourceExhausted) {
  auto channel = Connect({.max_message_bytes = 1000});
  ASSERT_NE(channel, nullptr);
  auto answer = channel->UnaryCall(kIssueCertificate, Request("big:5000"), In(absl::Seconds(5)));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kResourceExhausted) << answer.status();
  EXPECT_TRUE(channel->UnaryCall(kIssueCertificate, Request("ok"), In(absl::Seconds(5))).ok());
}

TEST_F(GrpcChannelTest, DeadlineExceededEndsTheCallOnBothSides) {
  auto channel = Connect();
  ASSERT_NE(channel, nullptr);
  const absl::Time start = absl::Now();
  auto answer = channel->UnaryCall(kIssueCertificate, Request("slow"), In(absl::Milliseconds(200)));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kDeadlineExceeded) << answer.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(190));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  // The server learns (grpc-timeout or RST_STREAM) and stops working on it.
  EXPECT_TRUE(
      grpcwire_testing::WaitUntil([&] { return server_.service().cancelled_calls() == 1; }));
}

TEST(GrpcChannelConnectTest, NoServerIsUnavailable) {
  auto channel = GrpcChannel::ConnectUnix("/tmp/grpcwire-no-such-dir/x.sock", absl::Seconds(1));
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kUnavailable) << channel.status();
}

TEST(GrpcChannelConnectTest, HttpOneServerIsAnErrorNotACrash) {
  JunkServer junk(
      "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
  auto channel = GrpcChannel::ConnectUnix(junk.socket_path(), absl::Seconds(1));
  ASSERT_TRUE(channel.ok()) << channel.status();
  const absl::Time start = absl::Now();
  auto answer = (*channel)->UnaryCall(kIssueCertificate, Request("x"), In(absl::Seconds(5)));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable) << answer.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1))
      << "a protocol error must not wait for the deadline";
  // The broken channel keeps failing cleanly.
  EXPECT_FALSE((*channel)->UnaryCall(kIssueCertificate, Request("x"), In(absl::Seconds(1))).ok());
  EXPECT_FALSE((*channel)->StartBidi(kIssueCertificate).ok());
}

TEST(GrpcChannelConnectTest, RandomBytesAreAnErrorNotACrash) {
  std::string junk_bytes;
  for (int i = 0; i < 4096; ++i) junk_bytes.push_back(static_cast<char>((i * 7919 + 13) % 251));
  JunkServer junk(junk_bytes);
  auto channel = GrpcChannel::ConnectUnix(junk.socket_path(), absl::Seconds(1));
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto answer = (*channel)->UnaryCall(kIssueCertificate, Request("x"), In(absl::Seconds(2)));
  EXPECT_FALSE(answer.ok());
}

TEST(GrpcChannelConnectTest, SilentServerEndsTheCallAtItsDeadline) {
  JunkServer junk("");  // accepts and never answers...
  auto channel = GrpcChannel::ConnectUnix(junk.socket_path(), absl::Seconds(1));
  ASSERT_TRUE(channel.ok()) << channel.status();
  // ...so only the deadline ends the call.
  auto answer = (*channel)->UnaryCall(kIssueCertificate, Request("x"), In(absl::Milliseconds(100)));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kDeadlineExceeded) << answer.status();
}

}  // namespace
}  // namespace weft::grpcwire
