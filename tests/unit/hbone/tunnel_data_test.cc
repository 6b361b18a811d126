// Bytes through HBONE tunnels: exactness, flow control with small windows, backpressure when
// the receiver stops consuming, and many streams at once.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/hbone/session_pair.h"

namespace weft::hbone::testing {
namespace {

SessionOptions SmallWindows() {
  SessionOptions options;
  options.initial_stream_window = 64 * 1024;
  options.connection_window = 256 * 1024;
  return options;
}

// Feeds `data` into a stream as the owner would: stop when SendData says the buffer is full,
// resume after pumping.
void SendAll(Session& session, int32_t stream_id, const std::string& data, size_t& offset) {
  constexpr size_t kChunk = 100 * 1000;  // not a multiple of any frame or window size
  while (offset < data.size()) {
    size_t n = std::min(kChunk, data.size() - offset);
    auto accepted = session.SendData(stream_id, std::string_view(data).substr(offset, n));
    ASSERT_TRUE(accepted.ok()) << accepted.status();
    offset += n;
    if (!*accepted) return;
  }
}

TEST(HboneTunnelData, TenMebibytesEachWayAreByteExactThroughSmallWindows) {
  RecordingStream client_events;
  SessionPair pair(SmallWindows(), SmallWindows());
  int32_t id = pair.Open(client_events);
  ASSERT_EQ(pair.requests.count(id), 1u);
  const ConnectRequest& seen = pair.requests[id];
  EXPECT_EQ(seen.authority, "10.244.1.2:8080");
  EXPECT_EQ(seen.forwarded, "for=10.244.0.2");
  EXPECT_EQ(seen.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  ASSERT_TRUE(pair.server->Respond(id, 200).ok());
  pair.Pump();
  EXPECT_EQ(client_events.response_status, 200);

  const std::string upstream = Pattern(10 << 20, 1);
  const std::string downstream = Pattern(10 << 20, 2);
  size_t up_offset = 0, down_offset = 0;
  RecordingStream& server_events = pair.server_stream(id);
  for (int round = 0; round < 10000; ++round) {
    if (up_offset == upstream.size() && down_offset == downstream.size()) break;
    SendAll(*pair.client, id, upstream, up_offset);
    SendAll(*pair.server, id, downstream, down_offset);
    pair.Pump();
  }
  ASSERT_TRUE(pair.client->CloseWrite(id).ok());
  ASSERT_TRUE(pair.server->CloseWrite(id).ok());
  pair.Pump();
  EXPECT_EQ(server_events.received.size(), upstream.size());
  EXPECT_TRUE(server_events.received == upstream) << "upstream bytes differ";
  EXPECT_EQ(client_events.received.size(), downstream.size());
  EXPECT_TRUE(client_events.received == downstream) << "downstream bytes differ";
  EXPECT_TRUE(client_events.closed);
  EXPECT_TRUE(client_events.close_status.ok()) << client_events.close_status;
  EXPECT_TRUE(server_events.close_status.ok()) << server_events.close_status;
}

TEST(HboneTunnelData, UnconsumedDataStopsTheSenderAtTheWindowUntilConsumed) {
  SessionOptions options = SmallWindows();
  options.stream_send_buffer_limit = 256 * 1024;
  RecordingStream client_events;
  SessionPair pair(options, options);
  pair.server_consumes = false;
  int32_t id = pair.Open(client_events);
  ASSERT_TRUE(pair.server->Respond(id, 200).ok());
  pair.Pump();

  const std::string payload = Pattern(1 << 20, 3);
  auto accepted = pair.client->SendData(id, payload);
  ASSERT_TRUE(accepted.ok());
  EXPECT_FALSE(*accepted) << "1 MiB is over the 256 KiB send buffer limit";
  pair.Pump();
  RecordingStream& server_events = pair.server_stream(id);
  EXPECT_EQ(server_events.received.size(), 64u * 1024);
  EXPECT_EQ(pair.client->buffered_send_bytes(id), payload.size() - 64 * 1024);
  pair.Pump();  // nothing new: the window is the limit, not the pumping
  EXPECT_EQ(server_events.received.size(), 64u * 1024);
  EXPECT_EQ(client_events.drained_calls, 0);

  // The application socket took everything: the window reopens and data flows again.
  pair.server->Consume(id, server_events.received.size());
  pair.Pump();
  EXPECT_GT(server_events.received.size(), 64u * 1024);
  EXPECT_LT(pair.client->buffered_send_bytes(id), payload.size() - 64 * 1024);

  server_events.consume = true;
  pair.server->Consume(id, server_events.received.size());
  pair.Pump();
  EXPECT_EQ(pair.client->buffered_send_bytes(id), 0u);
  EXPECT_TRUE(server_events.received == payload);
  EXPECT_EQ(client_events.drained_calls, 1);
}

TEST(HboneTunnelData, HundredParallelStreamsEachCarry64KiBIntact) {
  std::vector<std::unique_ptr<RecordingStream>> streams;  // outlives the sessions
  SessionPair pair;
  pair.server_echo = true;
  std::vector<int32_t> ids;
  std::vector<std::string> payloads;
  for (int i = 0; i < 100; ++i) {
    streams.push_back(std::make_unique<RecordingStream>());
    streams.back()->session = pair.client.get();
    auto id = pair.client->OpenStream(SessionPair::DefaultRequest(), streams.back().get());
    ASSERT_TRUE(id.ok()) << "stream " << i << ": " << id.status();
    ids.push_back(*id);
    payloads.push_back(Pattern(64 * 1024, 100 + i));
    ASSERT_TRUE(pair.client->SendData(*id, payloads.back()).ok());
    ASSERT_TRUE(pair.client->CloseWrite(*id).ok());
  }
  pair.Pump();
  for (int32_t id : ids) ASSERT_TRUE(pair.server->Respond(id, 200).ok());
  pair.Pump();
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(pair.server_stream(ids[i]).received.size(), 64u * 1024) << "stream " << i;
    EXPECT_TRUE(streams[i]->received == payloads[i]) << "stream " << i << " echo differs";
    EXPECT_TRUE(streams[i]->closed) << "stream " << i;
    EXPECT_TRUE(streams[i]->close_status.ok()) << streams[i]->close_status;
  }
  EXPECT_EQ(pair.client->open_streams(), 0u);
  EXPECT_EQ(pair.server->open_streams(), 0u);
}

}  // namespace
}  // namespace weft::hbone::testing
