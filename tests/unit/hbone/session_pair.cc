#include "tests/unit/hbone/session_pair.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace weft::hbone::testing {

void RecordingStream::OnResponse(int32_t, int status) {
  response_status = status;
  events.push_back(absl::StrCat("response ", status));
}

void RecordingStream::OnData(int32_t stream_id, std::string_view data) {
  received.append(data);
  if (echo) {
    auto sent = session->SendData(stream_id, data);
    EXPECT_TRUE(sent.ok()) << sent.status();
  }
  if (consume) session->Consume(stream_id, data.size());
}

void RecordingStream::OnPeerEnd(int32_t stream_id) {
  peer_ended = true;
  events.push_back("peer_end");
  if (echo) {
    EXPECT_TRUE(session->CloseWrite(stream_id).ok());
  }
}

void RecordingStream::OnStreamClosed(int32_t, const absl::Status& status) {
  EXPECT_FALSE(closed) << "OnStreamClosed twice";
  closed = true;
  close_status = status;
  events.push_back(status.ok() ? "closed OK" : "closed error");
}

void RecordingStream::OnSendBufferDrained(int32_t) { ++drained_calls; }

SessionPair::SessionPair(SessionOptions client_options, SessionOptions server_options) {
  auto c = ClientSession::Create(client_options);
  EXPECT_TRUE(c.ok()) << c.status();
  client = std::move(*c);
  auto s = ServerSession::Create(
      server_options, [this](int32_t stream_id, const ConnectRequest& request) -> StreamEvents* {
        requests[stream_id] = request;
        if (!server_accepts) return nullptr;
        auto events = std::make_unique<RecordingStream>();
        events->session = server.get();
        events->echo = server_echo;
        events->consume = server_consumes;
        RecordingStream* raw = events.get();
        server_streams[stream_id] = std::move(events);
        if (respond_in_handler) {
          EXPECT_TRUE(server->Respond(stream_id, 200).ok());
        }
        return raw;
      });
  EXPECT_TRUE(s.ok()) << s.status();
  server = std::move(*s);
}

// Sessions go first: their teardown may still report to the recorded streams.
SessionPair::~SessionPair() {
  client.reset();
  server.reset();
}

void SessionPair::Pump(bool allow_errors) {
  for (int round = 0; round < 100000; ++round) {
    std::string to_server, to_client;
    client->TakeOutput(&to_server);
    server->TakeOutput(&to_client);
    if (to_server.empty() && to_client.empty()) return;
    if (!to_server.empty() && server_status.ok()) server_status = server->OnBytes(to_server);
    if (!to_client.empty() && client_status.ok()) client_status = client->OnBytes(to_client);
    if (!allow_errors) {
      ASSERT_TRUE(server_status.ok()) << server_status;
      ASSERT_TRUE(client_status.ok()) << client_status;
    }
  }
  ADD_FAILURE() << "sessions never went quiet";
}

int32_t SessionPair::Open(RecordingStream& client_events, const ConnectRequest& request) {
  client_events.session = client.get();
  auto id = client->OpenStream(request, &client_events);
  EXPECT_TRUE(id.ok()) << id.status();
  if (!id.ok()) return -1;
  Pump();
  return *id;
}

ConnectRequest SessionPair::DefaultRequest() {
  ConnectRequest request;
  request.authority = "10.244.1.2:8080";
  request.forwarded = "for=10.244.0.2";
  request.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  return request;
}

std::string Pattern(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x);
  }
  return out;
}

}  // namespace weft::hbone::testing
