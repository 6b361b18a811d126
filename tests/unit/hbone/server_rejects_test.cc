// What a ServerSession does with input that is not an HBONE CONNECT: garbage breaks the
// session; a well-formed HTTP/2 request that is not a tunnel gets a 4xx and the session lives on.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <map>
#include <string>
#include <vector>

#include "tests/unit/hbone/session_pair.h"

namespace weft::hbone::testing {
namespace {

// A plain nghttp2 client, so the test can send requests a ClientSession never would.
class RawClient {
 public:
  RawClient() {
    nghttp2_session_callbacks* callbacks;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(
        callbacks,
        [](nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
           const uint8_t* value, size_t valuelen, uint8_t, void* user_data) -> int {
          if (std::string_view(reinterpret_cast<const char*>(name), namelen) == ":status") {
            static_cast<RawClient*>(user_data)->status[frame->hd.stream_id] =
                std::stoi(std::string(reinterpret_cast<const char*>(value), valuelen));
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        callbacks,
        [](nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user_data) -> int {
          static_cast<RawClient*>(user_data)->close_code[stream_id] = error_code;
          return 0;
        });
    nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~RawClient() { nghttp2_session_del(session_); }

  int32_t Request(std::vector<std::pair<std::string, std::string>> fields) {
    std::vector<nghttp2_nv> nva;
    for (auto& [name, value] : fields) {
      nva.push_back({reinterpret_cast<uint8_t*>(name.data()),
                     reinterpret_cast<uint8_t*>(value.data()), name.size(), value.size(),
                     NGHTTP2_NV_FLAG_NONE});
    }
    return nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), nullptr, nullptr);
  }

  // Exchanges bytes with `server` until both are quiet; returns the server's last OnBytes.
  absl::Status PumpWith(ServerSession& server) {
    absl::Status status;
    for (int round = 0; round < 1000; ++round) {
      std::string to_server, to_client;
      for (;;) {
        const uint8_t* data;
        ssize_t n = nghttp2_session_mem_send(session_, &data);
        if (n <= 0) break;
        to_server.append(reinterpret_cast<const char*>(data), n);
      }
      server.TakeOutput(&to_client);
      if (to_server.empty() && to_client.empty()) break;
      if (!to_server.empty()) status.Update(server.OnBytes(to_server));
      nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(to_client.data()),
                               to_client.size());
    }
    return status;
  }

  std::map<int32_t, int> status;
  std::map<int32_t, uint32_t> close_code;

 private:
  nghttp2_session* session_ = nullptr;
};

TEST(HboneServerRejects, Http1GarbageIsASessionErrorAnsweredWithGoAway) {
  SessionPair pair;
  std::string settings;
  pair.server->TakeOutput(&settings);
  absl::Status status = pair.server->OnBytes("GET / HTTP/1.1\r\n\r\n");
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(pair.server->is_closed());
  EXPECT_FALSE(pair.server->OnBytes("more").ok()) << "a broken session stays broken";
  std::string out;
  pair.server->TakeOutput(&out);
  // A GOAWAY frame header: 3-byte length, type 0x7.
  ASSERT_GE(out.size(), 9u);
  EXPECT_EQ(static_cast<uint8_t>(out[3]), 0x7) << "expected a GOAWAY";
}

TEST(HboneServerRejects, BrokenSessionClosesOpenStreamsWithAnError) {
  RecordingStream client_events;
  SessionPair pair;
  int32_t id = pair.Open(client_events);
  ASSERT_TRUE(pair.server->Respond(id, 200).ok());
  pair.Pump();
  // A DATA frame on stream 0 is a connection error (RFC 9113 §6.1).
  const std::string bad_frame("\x00\x00\x01\x00\x00\x00\x00\x00\x00x", 10);
  EXPECT_FALSE(pair.server->OnBytes(bad_frame).ok());
  ASSERT_TRUE(pair.server_stream(id).closed);
  EXPECT_FALSE(pair.server_stream(id).close_status.ok());
}

TEST(HboneServerRejects, NonTunnelRequestsGet4xxAndTheSessionStillServesConnect) {
  SessionPair pair;
  RawClient raw;
  int32_t get = raw.Request(
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {":authority", "example"}});
  int32_t no_authority = raw.Request({{":method", "CONNECT"}});
  int32_t extended = raw.Request({{":method", "CONNECT"},
                                  {":authority", "10.0.0.1:80"},
                                  {":scheme", "https"},
                                  {":path", "/"}});
  int32_t bad_name =
      raw.Request({{":method", "CONNECT"}, {":authority", "10.0.0.1:80"}, {"Bad Name", "x"}});
  int32_t bad_value = raw.Request({{":method", "CONNECT"},
                                   {":authority", "10.0.0.1:80"},
                                   {"traceparent", std::string("a\r\nb\0c", 6)}});
  int32_t pseudo_late = raw.Request(
      {{":method", "CONNECT"}, {"forwarded", "for=1.2.3.4"}, {":authority", "10.0.0.1:80"}});
  ASSERT_TRUE(raw.PumpWith(*pair.server).ok());
  EXPECT_EQ(raw.status[get], 405);
  EXPECT_EQ(raw.status[no_authority], 400);
  EXPECT_EQ(raw.status[extended], 400);
  EXPECT_EQ(raw.status.count(bad_name), 0u);
  EXPECT_EQ(raw.close_code[bad_name], static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_EQ(raw.close_code[bad_value], static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_EQ(raw.close_code[pseudo_late], static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_TRUE(pair.requests.empty()) << "none of these reached the handler";
  EXPECT_EQ(pair.server->open_streams(), 0u);

  int32_t connect = raw.Request({{":method", "CONNECT"},
                                 {":authority", "[fd00::1]:8080"},
                                 {"forwarded", "for=\"[fd00::2]\""}});
  ASSERT_TRUE(raw.PumpWith(*pair.server).ok());
  ASSERT_EQ(pair.requests.count(connect), 1u);
  EXPECT_EQ(pair.requests[connect].authority, "[fd00::1]:8080");
  EXPECT_EQ(pair.requests[connect].forwarded, "for=\"[fd00::2]\"");
  ASSERT_TRUE(pair.server->Respond(connect, 200).ok());
  ASSERT_TRUE(raw.PumpWith(*pair.server).ok());
  EXPECT_EQ(raw.status[connect], 200);
}

TEST(HboneServerRejects, RandomBytesAfterAValidPrefaceNeverCrash) {
  for (uint32_t seed = 0; seed < 200; ++seed) {
    RecordingStream client_events;
    SessionPair pair;
    pair.Open(client_events);  // the preface and a CONNECT are already in
    std::string noise = Pattern(64 + seed * 7, seed);
    (void)pair.server->OnBytes(noise);  // any outcome but a crash is fine
    std::string out;
    pair.server->TakeOutput(&out);
    if (!pair.server->OnBytes(noise).ok()) {
      EXPECT_TRUE(pair.server->is_closed());
    }
  }
}

}  // namespace
}  // namespace weft::hbone::testing
