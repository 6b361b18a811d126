#include "common/grpcwire/grpc_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpcwire/call_status.h"
#include "common/status/errno_status.h"

namespace weft::grpcwire {
namespace {

// Large enough that a full config snapshot arrives without a WINDOW_UPDATE round trip per 64 KiB.
constexpr int32_t kStreamWindowBytes = 1 << 20;
constexpr int32_t kConnectionWindowBytes = 4 << 20;

nghttp2_nv Header(std::string_view name, std::string_view value) {
  return nghttp2_nv{const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(name.data())),
                    const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(value.data())),
                    name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

// Waits for a non-blocking connect to finish; unix sockets usually connect at once.
absl::Status AwaitConnect(int fd, const std::string& path, absl::Duration timeout) {
  pollfd pfd{fd, POLLOUT, 0};
  const int timeout_ms =
      static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(timeout), 0, INT_MAX));
  int ready;
  do {
    ready = poll(&pfd, 1, timeout_ms);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) return ErrnoStatus(errno, "poll connecting to", path);
  if (ready == 0) {
    return absl::DeadlineExceededError(
        absl::StrCat("connecting to ", path, " took longer than ", absl::FormatDuration(timeout)));
  }
  int error = 0;
  socklen_t len = sizeof(error);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
  if (error != 0) return absl::UnavailableError(ErrnoStatus(error, "connect to", path).message());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcChannel>> GrpcChannel::ConnectUnix(const std::string& path,
                                                                      absl::Duration timeout,
                                                                      GrpcChannelOptions options) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unix socket path must be 1..", sizeof(addr.sun_path) - 1, " bytes: ", path));
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  event::ScopedFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus(errno, "socket(AF_UNIX) for", path);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) {
      // ENOENT (no socket yet) and ECONNREFUSED (stale socket) mean the server is not up: that
      // is gRPC's Unavailable, which callers treat as "retry", not NotFound.
      return absl::UnavailableError(ErrnoStatus(errno, "connect to", path).message());
    }
    if (absl::Status s = AwaitConnect(fd.get(), path, timeout); !s.ok()) return s;
  }
  return FromConnectedSocket(std::move(fd), std::move(options));
}

absl::StatusOr<std::unique_ptr<GrpcChannel>> GrpcChannel::FromConnectedSocket(
    event::ScopedFd socket, GrpcChannelOptions options) {
  if (!socket.valid()) return absl::InvalidArgumentError("grpc channel: no socket");
  const int flags = fcntl(socket.get(), F_GETFL);
  if (flags < 0 || fcntl(socket.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "fcntl(O_NONBLOCK) on the grpc channel socket");
  }
  event::ScopedFd wakeup(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wakeup.valid()) return ErrnoStatus(errno, "eventfd for the grpc channel");
  std::unique_ptr<GrpcChannel> channel(
      new GrpcChannel(std::move(socket), std::move(wakeup), std::move(options)));
  if (absl::Status s = channel->InitSession(); !s.ok()) return s;
  return channel;
}

absl::Status GrpcChannel::InitSession() {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) {
    return absl::ResourceExhaustedError("nghttp2_session_callbacks_new failed");
  }
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &GrpcChannel::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &GrpcChannel::OnFrameReceived);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &GrpcChannel::OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &GrpcChannel::OnStreamClosed);
  const int rv = nghttp2_session_client_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("nghttp2_session_client_new: ", nghttp2_strerror(rv)));
  }
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindowBytes},
  };
  if (int err = nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2); err != 0) {
    return absl::InternalError(absl::StrCat("nghttp2_submit_settings: ", nghttp2_strerror(err)));
  }
  if (int err = nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                                      kConnectionWindowBytes);
      err != 0) {
    return absl::InternalError(absl::StrCat("connection window: ", nghttp2_strerror(err)));
  }
  std::lock_guard<std::mutex> lock(mu_);
  return FlushOutput();
}

GrpcChannel::~GrpcChannel() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

absl::StatusOr<std::string> GrpcChannel::UnaryCall(std::string_view method,
                                                   std::string_view request, absl::Time deadline) {
  CallState call(options_.max_message_bytes);
  call.deadline = deadline;
  call.send_buffer = FrameMessage(request);
  call.half_closed = true;
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = StartCall(&call, method); !s.ok()) return s;
  absl::Status driven = Drive(
      &call, [] { return false; }, absl::InfiniteFuture());
  DetachCall(&call);
  if (!driven.ok()) return driven;
  if (!call.final_status.ok()) return call.final_status;
  if (call.messages.size() != 1) {
    return absl::InternalError(absl::StrCat("a unary call got ", call.messages.size(),
                                            " response messages instead of one"));
  }
  return std::move(call.messages.front());
}

absl::StatusOr<std::unique_ptr<BidiCall>> GrpcChannel::StartBidi(std::string_view method,
                                                                 absl::Time deadline) {
  auto state = std::make_unique<CallState>(options_.max_message_bytes);
  state->deadline = deadline;
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = StartCall(state.get(), method); !s.ok()) {
    DetachCall(state.get());
    return s;
  }
  (void)FlushOutput();  // the HEADERS go out now: the server starts streaming without a Write
  return std::unique_ptr<BidiCall>(new BidiCall(this, std::move(state)));
}

absl::Status GrpcChannel::StartCall(CallState* call, std::string_view method) {
  if (!method.starts_with('/')) {
    return absl::InvalidArgumentError(
        absl::StrCat("gRPC method must be /package.Service/Method: ", std::string(method)));
  }
  if (!connection_status_.ok()) return connection_status_;
  std::vector<nghttp2_nv> headers = {
      Header(":method", "POST"),
      Header(":scheme", "http"),
      Header(":path", method),
      Header(":authority", options_.authority),
      Header("content-type", "application/grpc"),
      Header("te", "trailers"),
  };
  std::string timeout;
  if (call->deadline != absl::InfiniteFuture()) {
    timeout = GrpcTimeoutValue(call->deadline - absl::Now());
    headers.push_back(Header("grpc-timeout", timeout));
  }
  nghttp2_data_provider body{};
  body.read_callback = &GrpcChannel::ReadRequestBody;
  const int32_t stream_id =
      nghttp2_submit_request(session_, nullptr, headers.data(), headers.size(), &body, call);
  if (stream_id < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open a stream: ", nghttp2_strerror(stream_id)));
  }
  call->stream_id = stream_id;
  calls_.insert(call);
  return absl::OkStatus();
}

absl::Status GrpcChannel::Drive(CallState* call, absl::FunctionRef<bool()> done,
                                absl::Time wait_until) {
  while (true) {
    if (!call->finished && call->cancel_requested.load()) {
      FinishCall(call, absl::CancelledError("the call was cancelled"), NGHTTP2_CANCEL);
    }
    if (call->finished || done()) {
      (void)FlushOutput();  // best effort: a RST_STREAM or the last DATA should still leave
      return absl::OkStatus();
    }
    if (absl::Status s = FlushOutput(); !s.ok()) {
      FailConnection(s);
      continue;
    }
    // nghttp2 gave up on the session (protocol error, GOAWAY sent and flushed): nothing more
    // will arrive, so waiting would only run into the deadline.
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
      FailConnection(absl::UnavailableError("the HTTP/2 session ended"));
      continue;
    }
    if (done()) return absl::OkStatus();
    const absl::Time now = absl::Now();
    if (now >= call->deadline) {
      FinishCall(call, absl::DeadlineExceededError("the call's deadline passed"), NGHTTP2_CANCEL);
      continue;
    }
    if (now >= wait_until) {
      return absl::DeadlineExceededError("nothing arrived within the wait");
    }
    const absl::Duration remaining = std::min(call->deadline, wait_until) - now;
    const int timeout_ms =
        remaining == absl::InfiniteDuration()
            ? -1
            : static_cast<int>(std::clamp<int64_t>(
                  absl::ToInt64Milliseconds(absl::Ceil(remaining, absl::Milliseconds(1))), 1,
                  INT_MAX));
    const bool want_out = pending_offset_ < pending_output_.size();
    pollfd fds[2] = {{socket_.get(), static_cast<short>(POLLIN | (want_out ? POLLOUT : 0)), 0},
                     {wakeup_.get(), POLLIN, 0}};
    const int ready = poll(fds, 2, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      FailConnection(ErrnoStatus(errno, "poll on the grpc channel"));
      continue;
    }
    if (fds[1].revents & POLLIN) {
      uint64_t counter;
      (void)!read(wakeup_.get(), &counter, sizeof(counter));
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (absl::Status s = ReceiveInput(); !s.ok()) FailConnection(s);
    }
  }
}

void GrpcChannel::FinishCall(CallState* call, absl::Status status,
                             std::optional<uint32_t> reset_code) {
  if (call->finished) return;
  call->finished = true;
  call->final_status = std::move(status);
  call->send_buffer.clear();
  call->send_offset = 0;
  if (reset_code.has_value() && connection_status_.ok() && call->stream_id > 0 &&
      nghttp2_session_find_stream(session_, call->stream_id) != nullptr) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, call->stream_id, *reset_code);
  }
}

void GrpcChannel::DetachCall(CallState* call) {
  calls_.erase(call);
  if (call->stream_id <= 0 || session_ == nullptr) return;
  if (connection_status_.ok() && nghttp2_session_find_stream(session_, call->stream_id)) {
    nghttp2_session_set_stream_user_data(session_, call->stream_id, nullptr);
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, call->stream_id, NGHTTP2_CANCEL);
    (void)FlushOutput();
  }
  call->stream_id = -1;
}

void GrpcChannel::ResumeSending(CallState* call) {
  if (!call->finished && call->stream_id > 0) {
    // Fails harmlessly when the body was not deferred (nghttp2 will ask again anyway).
    (void)nghttp2_session_resume_data(session_, call->stream_id);
  }
}

void GrpcChannel::Wake() {
  const uint64_t one = 1;
  (void)!write(wakeup_.get(), &one, sizeof(one));
}

absl::Status GrpcChannel::FlushOutput() {
  if (!connection_status_.ok()) return connection_status_;
  while (true) {
    if (pending_offset_ == pending_output_.size()) {
      pending_output_.clear();
      pending_offset_ = 0;
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        return absl::InternalError(absl::StrCat("HTTP/2 send: ", nghttp2_strerror(n)));
      }
      if (n == 0) return absl::OkStatus();
      pending_output_.assign(reinterpret_cast<const char*>(data), n);
    }
    const ssize_t written = send(socket_.get(), pending_output_.data() + pending_offset_,
                                 pending_output_.size() - pending_offset_, MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::OkStatus();  // poll for POLLOUT
      return absl::UnavailableError(ErrnoStatus(errno, "send to the grpc server").message());
    }
    pending_offset_ += static_cast<size_t>(written);
  }
}

absl::Status GrpcChannel::ReceiveInput() {
  char buffer[16384];
  while (true) {
    const ssize_t n = recv(socket_.get(), buffer, sizeof(buffer), 0);
    if (n == 0) return absl::UnavailableError("the server closed the connection");
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::OkStatus();
      return absl::UnavailableError(ErrnoStatus(errno, "recv from the grpc server").message());
    }
    const ssize_t consumed =
        nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buffer), n);
    if (consumed < 0) {
      return absl::UnavailableError(
          absl::StrCat("the server does not speak HTTP/2 gRPC: ", nghttp2_strerror(consumed)));
    }
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
      return absl::UnavailableError("the server ended the HTTP/2 session");
    }
  }
}

void GrpcChannel::FailConnection(absl::Status status) {
  if (!connection_status_.ok()) return;
  // Let nghttp2 queue its GOAWAY first (best effort) while the connection still counts as up.
  (void)FlushOutput();
  connection_status_ = status;
  for (CallState* call : calls_) FinishCall(call, status, std::nullopt);
}

}  // namespace weft::grpcwire
