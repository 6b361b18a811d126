#include <mutex>

#include "common/grpcwire/grpc_channel.h"

namespace weft::grpcwire {

BidiCall::~BidiCall() {
  std::lock_guard<std::mutex> lock(channel_->mu_);
  channel_->DetachCall(state_.get());
}

absl::Status BidiCall::Write(std::string_view message) {
  std::lock_guard<std::mutex> lock(channel_->mu_);
  CallState* call = state_.get();
  if (call->finished) {
    return call->final_status.ok()
               ? absl::FailedPreconditionError("the server already ended the call")
               : call->final_status;
  }
  if (call->half_closed) return absl::FailedPreconditionError("Write after WritesDone");
  call->send_buffer += FrameMessage(message);
  channel_->ResumeSending(call);
  // Blocks only while flow control holds the bytes back; the call's end releases it too.
  absl::Status driven = channel_->Drive(
      call, [call] { return call->SendBufferEmpty(); }, absl::InfiniteFuture());
  if (!driven.ok()) return driven;
  if (call->finished && !call->final_status.ok()) return call->final_status;
  return absl::OkStatus();
}

absl::Status BidiCall::WritesDone() {
  std::lock_guard<std::mutex> lock(channel_->mu_);
  CallState* call = state_.get();
  if (call->finished || call->half_closed) return absl::OkStatus();
  call->half_closed = true;
  channel_->ResumeSending(call);
  return channel_->Drive(
      call, [call] { return call->SendBufferEmpty(); }, absl::InfiniteFuture());
}

absl::StatusOr<std::optional<std::string>> BidiCall::Read(absl::Duration wait) {
  std::lock_guard<std::mutex> lock(channel_->mu_);
  CallState* call = state_.get();
  const absl::Time wait_until =
      wait == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + wait;
  absl::Status driven = channel_->Drive(
      call, [call] { return !call->messages.empty(); }, wait_until);
  if (!driven.ok()) return driven;
  if (!call->messages.empty()) {
    std::string message = std::move(call->messages.front());
    call->messages.pop_front();
    return std::optional<std::string>(std::move(message));
  }
  if (!call->final_status.ok()) return call->final_status;
  return std::optional<std::string>();
}

void BidiCall::Cancel() {
  state_->cancel_requested.store(true);
  channel_->Wake();
}

}  // namespace weft::grpcwire
