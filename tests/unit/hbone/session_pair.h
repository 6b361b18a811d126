// Test support: a ClientSession wired to a ServerSession in memory (each one's TakeOutput fed
// to the other's OnBytes), and StreamEvents that record what a tunnel owner would see.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/hbone/client_session.h"
#include "common/hbone/server_session.h"

namespace weft::hbone::testing {

// Records every event of one stream. With `consume` on, bytes count as delivered at once
// (Consume is called from OnData); with `echo` on, received bytes are sent back.
class RecordingStream : public StreamEvents {
 public:
  void OnResponse(int32_t stream_id, int status) override;
  void OnData(int32_t stream_id, std::string_view data) override;
  void OnPeerEnd(int32_t stream_id) override;
  void OnStreamClosed(int32_t stream_id, const absl::Status& status) override;
  void OnSendBufferDrained(int32_t stream_id) override;

  Session* session = nullptr;
  bool consume = true;
  bool echo = false;
  std::vector<std::string> events;  // "response 200", "peer_end", "closed OK", ...
  int response_status = 0;
  std::string received;
  bool peer_ended = false;
  bool closed = false;
  absl::Status close_status;
  int drained_calls = 0;
};

// One client and one server session talking to each other.
class SessionPair {
 public:
  // Every valid CONNECT the server accepts gets a RecordingStream in server_streams; the test
  // answers it with server->Respond unless respond_in_handler is set.
  explicit SessionPair(SessionOptions client_options = {}, SessionOptions server_options = {});
  ~SessionPair();

  // Moves bytes both ways until neither side has anything to send. Fails the test on a
  // session error unless allow_errors.
  void Pump(bool allow_errors = false);
  // Opens a stream with `request`, pumps, and returns its id (the server side is accepted).
  int32_t Open(RecordingStream& client_events, const ConnectRequest& request = DefaultRequest());
  static ConnectRequest DefaultRequest();

  RecordingStream& server_stream(int32_t id) { return *server_streams[id]; }

  std::unique_ptr<ClientSession> client;
  std::unique_ptr<ServerSession> server;
  std::map<int32_t, std::unique_ptr<RecordingStream>> server_streams;
  std::map<int32_t, ConnectRequest> requests;
  bool server_accepts = true;       // handler returns events (false: nullptr = refuse with 503)
  bool server_echo = false;         // server streams echo what they receive
  bool server_consumes = true;      // server streams Consume as data arrives
  bool respond_in_handler = false;  // Respond(200) from inside the RequestHandler
  absl::Status client_status;       // last OnBytes result on each side
  absl::Status server_status;
};

// Deterministic bytes, distinct per seed, so a misplaced or lost chunk shows.
std::string Pattern(size_t size, uint32_t seed);

}  // namespace weft::hbone::testing
