// grpcwire bidirectional streams against a real grpc++ StreamConfig implementation.
#include <gtest/gtest.h>

#include <thread>

#include "common/grpcwire/grpc_channel.h"
#include "tests/unit/grpcwire/scripted_node_api.h"

namespace weft::grpcwire {
namespace {

using grpcwire_testing::kStreamConfig;
using grpcwire_testing::ScriptedServer;
using grpcwire_testing::WaitUntil;
using weft::nodeapi::v1::ConfigAck;
using weft::nodeapi::v1::ConfigUpdate;

std::string Ack(uint64_t version, const std::string& error = "") {
  ConfigAck ack;
  ack.set_version(version);
  ack.set_error(error);
  return ack.SerializeAsString();
}

// The version of the next update, or -1 with the failure recorded.
int64_t ReadVersion(BidiCall& call, absl::Duration wait = absl::Seconds(5)) {
  auto message = call.Read(wait);
  if (!message.ok() || !message->has_value()) {
    ADD_FAILURE() << "no update: "
                  << (message.ok() ? std::string("clean end") : message.status().ToString());
    return -1;
  }
  ConfigUpdate update;
  if (!update.ParseFromString(**message)) {
    ADD_FAILURE() << "unparsable update";
    return -1;
  }
  return static_cast<int64_t>(update.version());
}

class BidiCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto channel = GrpcChannel::ConnectUnix(server_.socket_path(), absl::Seconds(1));
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel_ = *std::move(channel);
    auto call = channel_->StartBidi(kStreamConfig);
    ASSERT_TRUE(call.ok()) << call.status();
    call_ = *std::move(call);
  }
  void TearDown() override {
    call_.reset();  // before the channel, as the API requires
    channel_.reset();
  }

  ScriptedServer server_;
  std::unique_ptr<GrpcChannel> channel_;
  std::unique_ptr<BidiCall> call_;
};

TEST_F(BidiCallTest, SeveralMessagesBothWaysThenACleanEnd) {
  // The server speaks first, without waiting for a request message.
  EXPECT_EQ(ReadVersion(*call_), 1);
  EXPECT_EQ(ReadVersion(*call_), 2);
  EXPECT_EQ(ReadVersion(*call_), 3);
  for (uint64_t v = 1; v <= 3; ++v) ASSERT_TRUE(call_->Write(Ack(v)).ok());
  EXPECT_EQ(ReadVersion(*call_), 101);
  EXPECT_EQ(ReadVersion(*call_), 102);
  EXPECT_EQ(ReadVersion(*call_), 103);
  EXPECT_EQ(server_.service().acked_versions(), (std::vector<uint64_t>{1, 2, 3}));

  ASSERT_TRUE(call_->WritesDone().ok());
  auto end = call_->Read(absl::Seconds(5));
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_FALSE(end->has_value()) << "the server's OK trailers end the stream";
  EXPECT_TRUE(WaitUntil([&] { return server_.service().ended_streams() == 1; }));
}

TEST_F(BidiCallTest, ServerEndingTheStreamWithAnErrorReachesReadAndWrite) {
  for (int64_t v : {1, 2, 3}) EXPECT_EQ(ReadVersion(*call_), v);
  ASSERT_TRUE(call_->Write(Ack(1, "fail")).ok());
  auto end = call_->Read(absl::Seconds(5));
  EXPECT_EQ(end.status().code(), absl::StatusCode::kAborted) << end.status();
  EXPECT_EQ(end.status().message(), "told to fail");
  EXPECT_EQ(call_->Write(Ack(2)).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(call_->Read(absl::Seconds(1)).status().code(), absl::StatusCode::kAborted);
}

TEST_F(BidiCallTest, CancelFromAnotherThreadUnblocksReadWithinASecond) {
  for (int64_t v : {1, 2, 3}) EXPECT_EQ(ReadVersion(*call_), v);
  std::thread canceller([this] {
    absl::SleepFor(absl::Milliseconds(100));
    call_->Cancel();
  });
  const absl::Time start = absl::Now();
  auto blocked = call_->Read();  // nothing more comes: only Cancel ends this
  const absl::Duration waited = absl::Now() - start;
  canceller.join();
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kCancelled) << blocked.status();
  EXPECT_LT(waited, absl::Seconds(1));
  // The server sees the cancellation and its handler returns.
  EXPECT_TRUE(WaitUntil([&] { return server_.service().ended_streams() == 1; }));
  EXPECT_EQ(server_.service().cancelled_calls(), 1);
}

TEST_F(BidiCallTest, ReadWaitRunningOutLeavesTheCallOpen) {
  for (int64_t v : {1, 2, 3}) EXPECT_EQ(ReadVersion(*call_), v);
  EXPECT_EQ(call_->Read(absl::Milliseconds(50)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(call_->Write(Ack(7)).ok());
  EXPECT_EQ(ReadVersion(*call_), 107);
}

TEST_F(BidiCallTest, CallDeadlineEndsAStream) {
  auto call = channel_->StartBidi(kStreamConfig, absl::Now() + absl::Milliseconds(150));
  ASSERT_TRUE(call.ok()) << call.status();
  for (int64_t v : {1, 2, 3}) EXPECT_EQ(ReadVersion(**call), v);
  const absl::Time start = absl::Now();
  EXPECT_EQ((*call)->Read().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(BidiCallTest, ServerShutdownEndsTheStreamWithAnError) {
  for (int64_t v : {1, 2, 3}) EXPECT_EQ(ReadVersion(*call_), v);
  std::thread stopper([this] { server_.Shutdown(); });
  auto end = call_->Read(absl::Seconds(5));
  stopper.join();
  EXPECT_FALSE(end.ok() && end->has_value());
  EXPECT_FALSE(end.ok()) << "a server going away is not a clean end";
}

}  // namespace
}  // namespace weft::grpcwire
