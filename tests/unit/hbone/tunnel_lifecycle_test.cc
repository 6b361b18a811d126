// How HBONE streams open, end and are refused: half-close, non-2xx answers, stream limits,
// GOAWAY, resets, data sent before the tunnel is accepted, and session teardown.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include "absl/strings/str_cat.h"
#include "tests/unit/hbone/session_pair.h"

namespace weft::hbone::testing {
namespace {

using ::testing::ElementsAre;

TEST(HboneTunnelLifecycle, HalfCloseEachWayThenTheStreamClosesCleanly) {
  RecordingStream client_events;
  SessionPair pair;
  int32_t id = pair.Open(client_events);
  ASSERT_TRUE(pair.server->Respond(id, 200).ok());
  pair.Pump();
  RecordingStream& server_events = pair.server_stream(id);

  ASSERT_TRUE(pair.client->SendData(id, "ping").ok());
  ASSERT_TRUE(pair.client->CloseWrite(id).ok());
  pair.Pump();
  EXPECT_EQ(server_events.received, "ping");
  EXPECT_TRUE(server_events.peer_ended);
  EXPECT_FALSE(server_events.closed) << "the server may still send";
  EXPECT_FALSE(pair.client->SendData(id, "more").ok()) << "client already half-closed";

  ASSERT_TRUE(pair.server->SendData(id, "pong").ok());
  pair.Pump();
  EXPECT_EQ(client_events.received, "pong");
  ASSERT_TRUE(pair.server->CloseWrite(id).ok());
  pair.Pump();
  EXPECT_THAT(client_events.events, ElementsAre("response 200", "peer_end", "closed OK"));
  EXPECT_THAT(server_events.events, ElementsAre("peer_end", "closed OK"));
  EXPECT_EQ(pair.client->open_streams(), 0u);
  EXPECT_EQ(pair.server->open_streams(), 0u);
}

TEST(HboneTunnelLifecycle, ForbiddenAndUnavailableAnswersEndTheStream) {
  for (int status : {403, 503}) {
    RecordingStream client_events;
    SessionPair pair;
    int32_t id = pair.Open(client_events);
    ASSERT_TRUE(pair.client->SendData(id, "early bytes").ok());
    ASSERT_TRUE(pair.server->Respond(id, status).ok());
    pair.Pump();
    EXPECT_EQ(client_events.response_status, status);
    ASSERT_TRUE(client_events.closed) << status;
    EXPECT_EQ(client_events.events.front(), absl::StrCat("response ", status));
    EXPECT_EQ(client_events.events.back(), "closed error");
    EXPECT_EQ(client_events.close_status.code(),
              status == 403 ? absl::StatusCode::kPermissionDenied : absl::StatusCode::kUnavailable);
    EXPECT_TRUE(pair.server_stream(id).closed);
    EXPECT_TRUE(pair.server_stream(id).received.empty()) << "refused tunnels pass no data";
    EXPECT_EQ(pair.client->open_streams(), 0u);
    EXPECT_EQ(pair.server->open_streams(), 0u);
  }
}

TEST(HboneTunnelLifecycle, HandlerReturningNullRefusesWith503) {
  RecordingStream client_events;
  SessionPair pair;
  pair.server_accepts = false;
  pair.Open(client_events);
  EXPECT_EQ(client_events.response_status, 503);
  EXPECT_TRUE(client_events.closed);
}

TEST(HboneTunnelLifecycle, OpenBeyondThePeerStreamLimitIsResourceExhaustedUntilOneCloses) {
  SessionOptions server_options;
  server_options.max_concurrent_streams = 2;
  RecordingStream a, b, c;
  SessionPair pair({}, server_options);
  pair.Pump();  // the server's SETTINGS reach the client
  int32_t first = pair.Open(a);
  pair.Open(b);
  EXPECT_FALSE(pair.client->can_open_stream());
  auto refused = pair.client->OpenStream(SessionPair::DefaultRequest(), &c);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);

  pair.client->ResetStream(first, NGHTTP2_CANCEL);
  pair.Pump();
  EXPECT_TRUE(a.closed);
  EXPECT_TRUE(pair.client->can_open_stream());
  auto third = pair.client->OpenStream(SessionPair::DefaultRequest(), &c);
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST(HboneTunnelLifecycle, AfterGoAwayTheOpenStreamFinishesAndNoNewOneOpens) {
  RecordingStream client_events;
  RecordingStream late;
  SessionPair pair;
  int32_t id = pair.Open(client_events);
  ASSERT_TRUE(pair.server->Respond(id, 200).ok());
  pair.server->GoAway();
  pair.Pump();
  EXPECT_TRUE(pair.client->goaway_received());
  EXPECT_FALSE(pair.client->can_open_stream());
  EXPECT_EQ(pair.client->OpenStream(SessionPair::DefaultRequest(), &late).status().code(),
            absl::StatusCode::kResourceExhausted);

  ASSERT_TRUE(pair.client->SendData(id, "still flowing").ok());
  ASSERT_TRUE(pair.client->CloseWrite(id).ok());
  ASSERT_TRUE(pair.server->CloseWrite(id).ok());
  pair.Pump();
  EXPECT_EQ(pair.server_stream(id).received, "still flowing");
  EXPECT_TRUE(client_events.closed);
  EXPECT_TRUE(client_events.close_status.ok()) << client_events.close_status;
  // The stream is done and GOAWAY was exchanged one way: nothing more can happen, so each
  // owner may close the connection.
  EXPECT_EQ(pair.server->open_streams(), 0u);
  EXPECT_TRUE(pair.server->is_closed());
  EXPECT_TRUE(pair.client->is_closed());
}

TEST(HboneTunnelLifecycle, ResetClosesOnlyThatStreamWithAnErrorOnThePeer) {
  RecordingStream reset_events, other_events;
  RecordingStream fresh;
  SessionPair pair;
  int32_t reset_id = pair.Open(reset_events);
  int32_t other_id = pair.Open(other_events);
  ASSERT_TRUE(pair.server->Respond(reset_id, 200).ok());
  ASSERT_TRUE(pair.server->Respond(other_id, 200).ok());
  pair.Pump();

  pair.server->ResetStream(reset_id, NGHTTP2_CONNECT_ERROR);
  pair.Pump();
  ASSERT_TRUE(reset_events.closed);
  EXPECT_EQ(reset_events.close_status.code(), absl::StatusCode::kAborted);
  EXPECT_FALSE(other_events.closed);

  pair.client->ResetStream(other_id, NGHTTP2_CANCEL);
  pair.Pump();
  ASSERT_TRUE(pair.server_stream(other_id).closed);
  EXPECT_EQ(pair.server_stream(other_id).close_status.code(), absl::StatusCode::kCancelled);

  int32_t fresh_id = pair.Open(fresh);
  ASSERT_TRUE(pair.server->Respond(fresh_id, 200).ok());
  ASSERT_TRUE(pair.client->SendData(fresh_id, "after resets").ok());
  pair.Pump();
  EXPECT_EQ(pair.server_stream(fresh_id).received, "after resets");
}

TEST(HboneTunnelLifecycle, ResetBeforeTheRequestLeftStillClosesTheStream) {
  RecordingStream client_events;
  SessionPair pair;
  auto id = pair.client->OpenStream(SessionPair::DefaultRequest(), &client_events);
  ASSERT_TRUE(id.ok());
  pair.client->ResetStream(*id, NGHTTP2_CANCEL);
  pair.Pump();
  EXPECT_TRUE(client_events.closed);
  EXPECT_FALSE(client_events.close_status.ok());
  EXPECT_EQ(pair.client->open_streams(), 0u);
  EXPECT_EQ(pair.server->open_streams(), 0u);
}

TEST(HboneTunnelLifecycle, DataSentBeforeTheResponseIsHeldThenDelivered) {
  RecordingStream client_events;
  SessionPair pair;
  auto id = pair.client->OpenStream(SessionPair::DefaultRequest(), &client_events);
  ASSERT_TRUE(id.ok());
  client_events.session = pair.client.get();
  ASSERT_TRUE(pair.client->SendData(*id, "hello before 200").ok());
  ASSERT_TRUE(pair.client->CloseWrite(*id).ok());
  pair.Pump();
  RecordingStream& server_events = pair.server_stream(*id);
  EXPECT_TRUE(server_events.received.empty()) << "no data before the owner accepted";
  EXPECT_FALSE(server_events.peer_ended);

  ASSERT_TRUE(pair.server->Respond(*id, 200).ok());
  EXPECT_EQ(server_events.received, "hello before 200");
  EXPECT_TRUE(server_events.peer_ended);
  EXPECT_FALSE(pair.server->Respond(*id, 200).ok()) << "answered twice";
}

TEST(HboneTunnelLifecycle, RespondingFromInsideTheHandlerOpensTheTunnel) {
  RecordingStream client_events;
  SessionPair pair;
  pair.respond_in_handler = true;
  auto id = pair.client->OpenStream(SessionPair::DefaultRequest(), &client_events);
  ASSERT_TRUE(id.ok());
  client_events.session = pair.client.get();
  ASSERT_TRUE(pair.client->SendData(*id, "first flight").ok());
  ASSERT_TRUE(pair.client->CloseWrite(*id).ok());
  pair.Pump();
  EXPECT_EQ(client_events.response_status, 200);
  EXPECT_EQ(pair.server_stream(*id).received, "first flight");
  EXPECT_TRUE(pair.server_stream(*id).peer_ended);
}

TEST(HboneTunnelLifecycle, DestroyingTheSessionClosesItsStreams) {
  RecordingStream client_events;
  {
    SessionPair pair;
    pair.Open(client_events);
  }
  EXPECT_TRUE(client_events.closed);
  EXPECT_EQ(client_events.close_status.code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace weft::hbone::testing
