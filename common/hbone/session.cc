#include "common/hbone/session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/hbone/session_callbacks.h"
#include "common/log/logger.h"

namespace weft::hbone {
namespace {

// The reason a stream ended, from the RST_STREAM code nghttp2 reports at close.
absl::Status StatusFromErrorCode(uint32_t error_code) {
  if (error_code == NGHTTP2_NO_ERROR) return absl::OkStatus();
  std::string message =
      absl::StrCat("stream reset: ", nghttp2_http2_strerror(error_code), " (", error_code, ")");
  switch (error_code) {
    case NGHTTP2_CANCEL:
      return absl::CancelledError(message);
    case NGHTTP2_REFUSED_STREAM:
      return absl::UnavailableError(message);
    case NGHTTP2_CONNECT_ERROR:
      return absl::AbortedError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace

Session::~Session() {
  // Teardown is a reason too: owners learn their stream is gone rather than waiting forever.
  Fail(absl::CancelledError("HBONE session destroyed"));
  nghttp2_session_del(session_);
}

absl::Status Session::Init(bool is_server) {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) {
    return absl::ResourceExhaustedError("nghttp2_session_callbacks_new failed");
  }
  SessionCallbacks::Install(callbacks);
  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return absl::ResourceExhaustedError("nghttp2_option_new failed");
  }
  // The owner returns window with Consume() once bytes really left us, so a slow application
  // socket slows the peer instead of growing our buffers.
  nghttp2_option_set_no_auto_window_update(option, 1);
  // nghttp2 would reset a CONNECT lacking :authority instead of answering 400, so the request
  // rules are applied by RequestHeaderParser (with nghttp2's validators).
  nghttp2_option_set_no_http_messaging(option, 1);
  // Closed streams are kept only for RFC 7540 priorities, which HBONE does not use.
  nghttp2_option_set_no_closed_streams(option, 1);
  int rv = is_server ? nghttp2_session_server_new2(&session_, callbacks, this, option)
                     : nghttp2_session_client_new2(&session_, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) {
    return absl::ResourceExhaustedError(absl::StrCat("nghttp2 session: ", nghttp2_strerror(rv)));
  }
  std::vector<nghttp2_settings_entry> settings = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.initial_stream_window},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, options_.max_frame_size},
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  };
  if (!is_server) settings.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  rv = nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  if (rv != 0) {
    return absl::InvalidArgumentError(absl::StrCat("HBONE SETTINGS: ", nghttp2_strerror(rv)));
  }
  rv = nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                             static_cast<int32_t>(options_.connection_window));
  if (rv != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("HBONE connection window: ", nghttp2_strerror(rv)));
  }
  return absl::OkStatus();
}

absl::Status Session::OnBytes(std::string_view data) {
  if (failed()) return error_;
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data.data()),
                                        data.size());
  if (rv < 0) {
    // nghttp2 refused the input outright (bad preface, flood, ...): say so with a GOAWAY.
    absl::Status status =
        absl::InvalidArgumentError(absl::StrCat("HTTP/2 session error: ", nghttp2_strerror(rv)));
    nghttp2_session_terminate_session(
        session_, rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
    Fail(status);
  }
  // Serialize at once what the input produced: a connection error surfaces only as the
  // GOAWAY nghttp2 queues, which OnGoAwaySent turns into the session error. Control frames
  // come out before DATA, so one batch is enough; the owner takes the rest as it sends.
  Pump(options_.output_batch);
  return error_;
}

size_t Session::TakeOutput(std::string* out, size_t max) {
  Pump(max);
  size_t n = output_.size();
  if (out->empty()) {
    out->swap(output_);
  } else {
    out->append(output_);
  }
  output_.clear();
  return n;
}

bool Session::wants_output() const {
  return !output_.empty() || nghttp2_session_want_write(session_) != 0;
}

void Session::Pump(size_t budget) {
  if (pumping_) return;  // a callback inside mem_send asked for more; the loop below covers it
  pumping_ = true;
  pump_budget_ = budget;
  // nghttp2 sends DATA payloads of at most 16 KiB; a budget is passed by at most one frame.
  constexpr size_t kLargestDataFrame = 9 + 16 * 1024;
  if (budget != SIZE_MAX) output_.reserve(budget + kLargestDataFrame);
  for (;;) {
    while (output_.size() < budget) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        Fail(absl::InternalError(absl::StrCat("HTTP/2 send: ", nghttp2_strerror(n))));
        break;
      }
      if (n == 0) break;
      output_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (drained_.empty()) break;
    std::vector<int32_t> due;
    due.swap(drained_);
    for (int32_t stream_id : due) {
      Stream* stream = FindStream(stream_id);
      if (stream != nullptr && stream->events != nullptr) {
        stream->events->OnSendBufferDrained(stream_id);
      }
    }
  }
  pumping_ = false;
}

absl::StatusOr<bool> Session::SendData(int32_t stream_id, std::string_view data) {
  if (failed()) return error_;
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr) return absl::NotFoundError(absl::StrCat("no HBONE stream ", stream_id));
  if (stream->write_closed) {
    return absl::FailedPreconditionError(absl::StrCat("HBONE stream ", stream_id, " closed"));
  }
  stream->send_buffer.Append(data);
  if (stream->data_deferred && !data.empty()) {
    stream->data_deferred = false;
    nghttp2_session_resume_data(session_, stream_id);
  }
  if (stream->send_buffer.size() > options_.stream_send_buffer_limit) {
    stream->drained_owed = true;
    return false;
  }
  return true;
}

absl::Status Session::CloseWrite(int32_t stream_id) {
  if (failed()) return error_;
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr) return absl::NotFoundError(absl::StrCat("no HBONE stream ", stream_id));
  stream->write_closed = true;
  if (stream->data_deferred) {
    stream->data_deferred = false;
    nghttp2_session_resume_data(session_, stream_id);
  }
  return absl::OkStatus();
}

void Session::ResetStream(int32_t stream_id, uint32_t http2_error_code) {
  if (failed() || FindStream(stream_id) == nullptr) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, http2_error_code);
}

void Session::Consume(int32_t stream_id, size_t n) {
  Stream* stream = FindStream(stream_id);
  if (failed() || stream == nullptr) return;  // a closed stream's bytes were returned at close
  n = std::min(n, stream->unconsumed);
  if (n == 0) return;
  stream->unconsumed -= n;
  nghttp2_session_consume(session_, stream_id, n);
}

void Session::GoAway() {
  if (failed() || goaway_sent_) return;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

void Session::ShutdownNotice() {
  if (failed() || goaway_sent_) return;
  // Server sessions only (nghttp2 refuses it for clients, which is harmless here).
  nghttp2_submit_shutdown_notice(session_);
}

bool Session::is_closed() const {
  if (failed()) return true;
  if (!streams_.empty() || !output_.empty()) return false;
  // nghttp2 stops reading once a GOAWAY went either way and no stream is active; from then on
  // nothing can happen on this connection.
  return (goaway_sent_ && goaway_received_) ||
         (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0);
}

size_t Session::buffered_send_bytes(int32_t stream_id) const {
  const Stream* stream = FindStream(stream_id);
  return stream == nullptr ? 0 : stream->send_buffer.size();
}

Session::Stream* Session::FindStream(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

const Session::Stream* Session::FindStream(int32_t stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

Session::Stream& Session::AddStream(int32_t stream_id, StreamEvents* events) {
  auto stream = std::make_unique<Stream>();
  stream->events = events;
  Stream& ref = *stream;
  streams_[stream_id] = std::move(stream);
  return ref;
}

void Session::FillDataProvider(void* provider) {
  auto* p = static_cast<nghttp2_data_provider*>(provider);
  p->source.ptr = this;
  p->read_callback = &SessionCallbacks::ReadStreamData;
}

void Session::ReleaseHeldInbound(int32_t stream_id) {
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr || !stream->hold_inbound) return;
  stream->hold_inbound = false;
  if (stream->events == nullptr) return;
  if (!stream->held_inbound.empty()) {
    std::string held;
    held.swap(stream->held_inbound);
    stream->events->OnData(stream_id, held);
  }
  if (stream->peer_ended) stream->events->OnPeerEnd(stream_id);
}

void Session::OnDataChunk(int32_t stream_id, std::string_view data) {
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr || stream->events == nullptr || stream->discard_inbound) {
    // Nobody will read these bytes: give their window back now.
    nghttp2_session_consume(session_, stream_id, data.size());
    return;
  }
  stream->unconsumed += data.size();
  if (stream->hold_inbound) {
    stream->held_inbound.append(data);
    return;
  }
  stream->events->OnData(stream_id, data);
}

void Session::OnPeerEndStream(int32_t stream_id) {
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr) return;
  stream->peer_ended = true;
  if (stream->events == nullptr || stream->hold_inbound || stream->discard_inbound) return;
  stream->events->OnPeerEnd(stream_id);
}

void Session::CloseStream(int32_t stream_id, uint32_t error_code) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  std::unique_ptr<Stream> stream = std::move(it->second);
  streams_.erase(it);
  // Bytes the owner never consumed would otherwise shrink the connection window for good.
  if (stream->unconsumed > 0) nghttp2_session_consume_connection(session_, stream->unconsumed);
  if (stream->events == nullptr) return;
  absl::Status status = stream->refused.ok() ? StatusFromErrorCode(error_code) : stream->refused;
  stream->events->OnStreamClosed(stream_id, status);
}

void Session::OnGoAwaySent(uint32_t error_code) {
  goaway_sent_ = true;
  if (error_code != NGHTTP2_NO_ERROR && !failed()) {
    log::Debug("hbone session error", {{"goaway_error", nghttp2_http2_strerror(error_code)}});
    Fail(absl::InvalidArgumentError(
        absl::StrCat("HTTP/2 protocol error: sent GOAWAY ", nghttp2_http2_strerror(error_code))));
  }
}

void Session::OnHeadersSent(int32_t stream_id) {
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr || !stream->reset_after_headers) return;
  stream->reset_after_headers = false;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_NO_ERROR);
}

ssize_t Session::ReadStreamData(int32_t stream_id, size_t length, uint32_t* data_flags) {
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  // Only the frame's size is decided here; WriteDataFrame copies the payload right after,
  // within the same mem_send.
  const size_t n = std::min(length, stream->send_buffer.size());
  if (n == stream->send_buffer.size() && stream->write_closed) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  } else if (n == 0) {
    stream->data_deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  const size_t left = stream->send_buffer.size() - n;
  if (stream->drained_owed && left < options_.stream_send_buffer_limit / 2) {
    stream->drained_owed = false;
    drained_.push_back(stream_id);
  }
  return static_cast<ssize_t>(n);
}

int Session::WriteDataFrame(int32_t stream_id, std::string_view frame_header, size_t length) {
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr || stream->send_buffer.size() < length) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;  // cannot happen: sized by ReadStreamData just now
  }
  // nghttp2 writes every DATA frame inside one mem_send call: the budget is kept here, and
  // a frame over it is offered again (same parameters) by the next Pump.
  if (output_.size() >= pump_budget_) return NGHTTP2_ERR_WOULDBLOCK;
  output_.append(frame_header);
  stream->send_buffer.AppendTo(&output_, length);
  return 0;
}

void Session::Fail(absl::Status status) {
  if (error_.ok()) error_ = std::move(status);
  // Detach first: an owner's OnStreamClosed may call back into the session.
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [stream_id, stream] : streams) {
    if (stream->events != nullptr) stream->events->OnStreamClosed(stream_id, error_);
  }
}

}  // namespace weft::hbone
