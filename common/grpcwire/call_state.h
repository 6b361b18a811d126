// One call's state inside a GrpcChannel: what is waiting to be sent, what arrived, and how the
// call ended. Owned by the caller's UnaryCall frame or BidiCall; the nghttp2 stream points at it
// (stream user data) until the owner detaches it.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/grpcwire/call_status.h"
#include "common/grpcwire/message_framing.h"

namespace weft::grpcwire {

struct CallState {
  explicit CallState(size_t max_message_bytes) : deframer(max_message_bytes) {}

  int32_t stream_id = -1;
  absl::Time deadline = absl::InfiniteFuture();

  // Outbound: framed messages not yet taken by nghttp2, and whether the client half-closed.
  std::string send_buffer;
  size_t send_offset = 0;
  bool half_closed = false;

  // Inbound.
  ResponseOutcome outcome;
  MessageDeframer deframer;
  std::deque<std::string> messages;

  // Set once, when the call ends; later events for the stream are ignored.
  bool finished = false;
  absl::Status final_status;

  // Written by Cancel() from any thread; read by the thread driving the channel.
  std::atomic<bool> cancel_requested{false};

  bool SendBufferEmpty() const { return send_offset == send_buffer.size(); }
};

}  // namespace weft::grpcwire
