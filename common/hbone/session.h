// One HTTP/2 connection carrying HBONE tunnels, as a pure state machine over nghttp2:
// plaintext HTTP/2 bytes go in through OnBytes, per-stream events come out through
// StreamEvents, and the bytes to send are taken out with TakeOutput. No I/O, no timers, no
// threads: the owner (a ztunnel worker) does all of that, and every call happens on its thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/hbone/request_header_parser.h"
#include "common/hbone/session_options.h"
#include "common/hbone/stream_events.h"
#include "common/hbone/stream_send_buffer.h"

struct nghttp2_session;

namespace weft::hbone {

class Session {
 public:
  virtual ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // HTTP/2 bytes from the peer (decrypted). An error means the session is broken: a GOAWAY is
  // queued where possible, every open stream got OnStreamClosed(error), and the owner should
  // send the output and close the connection. A problem confined to one stream resets only it.
  absl::Status OnBytes(std::string_view data);
  // Appends the bytes to send to the peer to *out; returns how many. Stops once about `max`
  // bytes are out (whole frames: the last one may go past it), so that the owner can keep
  // what it holds bounded by its socket's progress; wants_output() says whether more waits.
  size_t TakeOutput(std::string* out, size_t max = SIZE_MAX);
  // SessionOptions::output_batch: the step an owner bounding its output takes at a time.
  size_t output_batch() const { return options_.output_batch; }
  bool wants_output() const;
  // Queues tunnelled bytes (sent as the peer's window allows). False: the stream's buffer is
  // above stream_send_buffer_limit; OnSendBufferDrained follows once it is below half of it.
  absl::StatusOr<bool> SendData(int32_t stream_id, std::string_view data);
  // Our half-close: END_STREAM after the buffered data.
  absl::Status CloseWrite(int32_t stream_id);
  // RST_STREAM with `http2_error_code` (NGHTTP2_CANCEL, NGHTTP2_CONNECT_ERROR, ...).
  void ResetStream(int32_t stream_id, uint32_t http2_error_code);
  // The owner has passed n bytes of this stream's data on: return them to the peer's window.
  void Consume(int32_t stream_id, size_t n);
  // Graceful shutdown: GOAWAY(NO_ERROR) with the last processed stream id.
  // Server: the first half of a graceful shutdown (RFC 9113 §6.8): a GOAWAY naming the
  // highest stream id, so the peer stops opening streams but none already in flight is
  // refused. Follow with GoAway() once a round trip has passed.
  void ShutdownNotice();
  void GoAway();

  size_t open_streams() const { return streams_.size(); }
  bool goaway_received() const { return goaway_received_; }
  // Nothing more will happen: no streams, no output, and a GOAWAY went at least one way (or
  // the session failed). The owner may close the connection.
  bool is_closed() const;
  size_t buffered_send_bytes(int32_t stream_id) const;

 protected:
  // One stream as this session tracks it, from its first HEADERS to OnStreamClosed.
  struct Stream {
    StreamEvents* events = nullptr;  // null: refused/rejected stream, data is dropped
    StreamSendBuffer send_buffer;
    bool data_provider_attached = false;
    bool data_deferred = false;        // nghttp2 waits for resume_data
    bool write_closed = false;         // CloseWrite called: END_STREAM after the buffer
    bool drained_owed = false;         // SendData returned false
    bool peer_ended = false;           // END_STREAM received
    bool reset_after_headers = false;  // RST_STREAM(NO_ERROR) once our HEADERS went out
    bool discard_inbound = false;      // tunnel refused: inbound bytes are dropped
    bool hold_inbound = false;         // server before Respond(200): keep data in held_inbound
    std::string held_inbound;          // bounded by our stream window (nothing is consumed)
    size_t unconsumed = 0;             // received but not yet returned to the peer's window
    absl::Status refused;              // set when the tunnel was refused; reported at close
    bool response_seen = false;        // client: final response received; server: responded
    int response_status = 0;           // client: :status being collected
    std::unique_ptr<RequestHeaderParser> request_parser;  // server, while headers arrive
  };

  explicit Session(const SessionOptions& options) : options_(options) {}
  // Creates the nghttp2 session and queues our SETTINGS (plus the client preface).
  absl::Status Init(bool is_server);

  // Header blocks, as nghttp2 delivers them; implemented by each role.
  virtual void OnHeaderBlockStart(int32_t stream_id, bool is_request) = 0;
  virtual void OnHeaderField(int32_t stream_id, std::string_view name, std::string_view value) = 0;
  virtual void OnHeaderBlockEnd(int32_t stream_id, bool end_stream) = 0;

  Stream* FindStream(int32_t stream_id);
  const Stream* FindStream(int32_t stream_id) const;
  Stream& AddStream(int32_t stream_id, StreamEvents* events);
  // Hands held data and a held END_STREAM to the owner once it may see them.
  void ReleaseHeldInbound(int32_t stream_id);
  // Fills in the data provider that pulls from the stream's send buffer.
  void FillDataProvider(void* provider);
  nghttp2_session* ng() const { return session_; }
  const SessionOptions& options() const { return options_; }
  bool failed() const { return !error_.ok(); }
  const absl::Status& error() const { return error_; }
  bool goaway_sent() const { return goaway_sent_; }

 private:
  friend class SessionCallbacks;

  // Runs nghttp2_session_mem_send into output_ until it holds `budget` bytes or nghttp2 has
  // nothing more, and delivers owed drain notifications.
  void Pump(size_t budget);
  // The session is broken: every open stream learns it, nothing more is read.
  void Fail(absl::Status status);
  // nghttp2 events, forwarded by SessionCallbacks.
  void OnDataChunk(int32_t stream_id, std::string_view data);
  void OnPeerEndStream(int32_t stream_id);
  void CloseStream(int32_t stream_id, uint32_t error_code);
  void OnGoAwaySent(uint32_t error_code);
  void OnHeadersSent(int32_t stream_id);
  ssize_t ReadStreamData(int32_t stream_id, size_t length, uint32_t* data_flags);
  // Appends one DATA frame: its header, then `length` bytes from the stream's send buffer.
  int WriteDataFrame(int32_t stream_id, std::string_view frame_header, size_t length);

  SessionOptions options_;
  nghttp2_session* session_ = nullptr;
  absl::flat_hash_map<int32_t, std::unique_ptr<Stream>> streams_;
  std::string output_;
  std::vector<int32_t> drained_;  // streams whose OnSendBufferDrained is due
  absl::Status error_;
  bool goaway_sent_ = false;
  bool goaway_received_ = false;
  bool pumping_ = false;
  size_t pump_budget_ = SIZE_MAX;  // output_ size at which WriteDataFrame stops this Pump
};

}  // namespace weft::hbone
