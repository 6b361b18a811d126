// A minimal gRPC client over HTTP/2 cleartext (h2c) on a connected stream socket, enough for
// unary and bidirectional-streaming calls to the agent's node API without linking gRPC.
//
// Blocking: the calling thread does the socket I/O while it waits (poll() on the socket and a
// wakeup eventfd). One thread drives a channel at a time (calls are serialised by a mutex; a
// thread blocked in BidiCall::Read holds it), so give each long-lived stream its own channel.
// BidiCall::Cancel() is the one thing safe from any thread.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/event/scoped_fd.h"
#include "common/grpcwire/call_state.h"
#include "common/grpcwire/message_framing.h"

namespace weft::grpcwire {

class BidiCall;

struct GrpcChannelOptions {
  size_t max_message_bytes = kDefaultMaxMessageBytes;  // larger responses fail the call
  std::string authority = "localhost";
};

class GrpcChannel {
 public:
  // Connects to the unix stream socket at `path`. A missing socket or nobody listening is
  // Unavailable (the server may be restarting: callers retry); `timeout` bounds the connect.
  static absl::StatusOr<std::unique_ptr<GrpcChannel>> ConnectUnix(const std::string& path,
                                                                  absl::Duration timeout,
                                                                  GrpcChannelOptions options = {});
  // Takes an already connected stream socket.
  static absl::StatusOr<std::unique_ptr<GrpcChannel>> FromConnectedSocket(
      event::ScopedFd socket, GrpcChannelOptions options = {});
  ~GrpcChannel();
  GrpcChannel(const GrpcChannel&) = delete;
  GrpcChannel& operator=(const GrpcChannel&) = delete;

  // `method` is the full path, "/package.Service/Method". Returns the single response message,
  // or the call's status: the server's grpc-status and grpc-message, DeadlineExceeded when
  // `deadline` passes, Unavailable when the connection breaks, Internal for a malformed answer.
  absl::StatusOr<std::string> UnaryCall(std::string_view method, std::string_view request,
                                        absl::Time deadline);

  // Opens a bidirectional stream. The BidiCall must be destroyed before the channel.
  absl::StatusOr<std::unique_ptr<BidiCall>> StartBidi(std::string_view method,
                                                      absl::Time deadline = absl::InfiniteFuture());

 private:
  friend class BidiCall;

  GrpcChannel(event::ScopedFd socket, event::ScopedFd wakeup, GrpcChannelOptions options)
      : socket_(std::move(socket)), wakeup_(std::move(wakeup)), options_(std::move(options)) {}
  absl::Status InitSession();

  // Submits the request HEADERS for `call` (its body follows from call->send_buffer).
  absl::Status StartCall(CallState* call, std::string_view method);
  // Does socket I/O until `done()` holds or the call ends (OK), or until `wait_until` passes
  // with the call still open (DeadlineExceeded; the call stays usable). Requires mu_.
  absl::Status Drive(CallState* call, absl::FunctionRef<bool()> done, absl::Time wait_until);
  // Ends `call` with `status`; resets the stream with `reset_code` when it is still open.
  void FinishCall(CallState* call, absl::Status status, std::optional<uint32_t> reset_code);
  // Forgets `call` (its owner is going away), resetting the stream if it is still open.
  void DetachCall(CallState* call);
  // Called by the owner when it queued bytes or half-closed.
  void ResumeSending(CallState* call);
  void Wake();

  absl::Status FlushOutput();
  absl::Status ReceiveInput();
  void FailConnection(absl::Status status);

  // nghttp2 callbacks (grpc_channel_callbacks.cc); user_data is the GrpcChannel.
  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_len, const uint8_t* value, size_t value_len, uint8_t flags,
                      void* user_data);
  static int OnFrameReceived(nghttp2_session* session, const nghttp2_frame* frame, void* user_data);
  static int OnDataChunk(nghttp2_session* session, uint8_t flags, int32_t stream_id,
                         const uint8_t* data, size_t len, void* user_data);
  static int OnStreamClosed(nghttp2_session* session, int32_t stream_id, uint32_t error_code,
                            void* user_data);
  static ssize_t ReadRequestBody(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                                 size_t length, uint32_t* data_flags, nghttp2_data_source* source,
                                 void* user_data);
  void OnRemoteEnd(CallState* call);

  event::ScopedFd socket_;
  event::ScopedFd wakeup_;  // eventfd: Cancel() wakes the thread blocked in poll()
  const GrpcChannelOptions options_;
  std::mutex mu_;
  nghttp2_session* session_ = nullptr;    // guarded by mu_
  std::unordered_set<CallState*> calls_;  // guarded by mu_
  absl::Status connection_status_;        // guarded by mu_; not OK once broken
  std::string pending_output_;            // guarded by mu_; taken from nghttp2, unsent
  size_t pending_offset_ = 0;             // guarded by mu_
};

// One bidirectional stream. Write/WritesDone/Read from the thread that owns the call; Cancel()
// from any thread.
class BidiCall {
 public:
  ~BidiCall();
  BidiCall(const BidiCall&) = delete;
  BidiCall& operator=(const BidiCall&) = delete;

  // Queues one message and sends it (blocking while flow control holds it back). After the
  // call ended: its error, or FailedPrecondition when it ended OK.
  absl::Status Write(std::string_view message);
  // Half-closes: the server sees the end of the request stream.
  absl::Status WritesDone();
  // The next message; nullopt when the server ended the call with OK; the call's status when
  // it ended otherwise. DeadlineExceeded when `wait` passes first: then the call stays open and
  // Read may be called again.
  absl::StatusOr<std::optional<std::string>> Read(absl::Duration wait = absl::InfiniteDuration());
  // Ends the call with Cancelled (RST_STREAM CANCEL); a blocked Read or Write returns within
  // milliseconds. Safe from any thread while the BidiCall exists.
  void Cancel();

 private:
  friend class GrpcChannel;
  BidiCall(GrpcChannel* channel, std::unique_ptr<CallState> state)
      : channel_(channel), state_(std::move(state)) {}

  GrpcChannel* const channel_;
  const std::unique_ptr<CallState> state_;
};

}  // namespace weft::grpcwire
