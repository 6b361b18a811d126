// Connects, reads, writes and teardown of the event loop's connections.
//
// Lifecycle of a connection slot: kConnecting (outbound only) -> kOpen -> kClosing -> free.
// kClosing cancels every request on the fd; the fd is closed and the handler told only when
// the last of them has completed (inflight == 0), in Finalize at the end of a batch.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/event/event_loop.h"
#include "common/log/logger.h"

namespace weft::event {
namespace {

using State = ConnectionSlot::State;

}  // namespace

// --- Slot table ---------------------------------------------------------------------------

ConnectionSlot* EventLoop::Lookup(ConnectionId id) {
  return const_cast<ConnectionSlot*>(std::as_const(*this).Lookup(id));
}

const ConnectionSlot* EventLoop::Lookup(ConnectionId id) const {
  if (!id.valid() || id.slot >= connections_.size()) return nullptr;
  const ConnectionSlot* slot = connections_[id.slot].get();
  if (slot->state == State::kFree || slot->generation != id.generation) return nullptr;
  return slot;
}

ConnectionId EventLoop::IdOf(uint32_t index) const {
  return ConnectionId{index, connections_[index]->generation};
}

ConnectionId EventLoop::AllocateConnection(int fd, State state) {
  uint32_t index;
  if (!free_connections_.empty()) {
    index = free_connections_.back();
    free_connections_.pop_back();
  } else {
    index = static_cast<uint32_t>(connections_.size());
    connections_.push_back(std::make_unique<ConnectionSlot>());
  }
  ConnectionSlot& slot = *connections_[index];
  slot.state = state;
  slot.fd = fd;
  ++open_connections_;
  return IdOf(index);
}

void EventLoop::Touch(ConnectionSlot& slot) {
  if (slot.idle_timeout.count() > 0) slot.last_activity = std::chrono::steady_clock::now();
}

int EventLoop::NativeFd(ConnectionId id) const {
  const ConnectionSlot* slot = Lookup(id);
  return slot == nullptr ? -1 : slot->fd;
}

size_t EventLoop::PendingSendBytes(ConnectionId id) const {
  const ConnectionSlot* slot = Lookup(id);
  return slot == nullptr ? 0 : slot->pending_send_bytes;
}

// --- Outbound and adopted connections -----------------------------------------------------

absl::StatusOr<ConnectionId> EventLoop::Connect(const SocketAddress& remote,
                                                std::chrono::milliseconds timeout,
                                                std::unique_ptr<ConnectionHandler> handler) {
  if (handler == nullptr) return absl::InvalidArgumentError("Connect: null handler");
  int fd = ::socket(remote.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("socket() to connect to ", remote.ToString()));
  }
  return ConnectSocket(ScopedFd(fd), remote, timeout, std::move(handler));
}

absl::StatusOr<ConnectionId> EventLoop::ConnectSocket(ScopedFd socket, const SocketAddress& remote,
                                                      std::chrono::milliseconds timeout,
                                                      std::unique_ptr<ConnectionHandler> handler) {
  if (handler == nullptr || !socket.valid()) {
    return absl::InvalidArgumentError("ConnectSocket: needs a socket and a handler");
  }
  const int fd = socket.Release();
  const ConnectionId id = AllocateConnection(fd, State::kConnecting);
  ConnectionSlot& slot = *connections_[id.slot];
  slot.handler = std::move(handler);
  slot.remote = remote;
  // A linked pair must reach the kernel in one submission, or the link is cut.
  EnsureSqSpace(2);
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_connect(sqe, fd, slot.remote.sockaddr_ptr(), slot.remote.length());
  io_uring_sqe_set_data64(sqe, UserData{OpKind::kConnect, id.generation, id.slot}.Encode());
  ++slot.inflight;
  ++inflight_total_;
  if (timeout.count() > 0) {
    sqe->flags |= IOSQE_IO_LINK;
    slot.connect_timeout.tv_sec = timeout.count() / 1000;
    slot.connect_timeout.tv_nsec = (timeout.count() % 1000) * 1'000'000;
    io_uring_sqe* timeout_sqe = GetSqe();
    io_uring_prep_link_timeout(timeout_sqe, &slot.connect_timeout, 0);
    io_uring_sqe_set_data64(timeout_sqe,
                            UserData{OpKind::kConnectTimeout, id.generation, id.slot}.Encode());
    ++slot.inflight;
    ++inflight_total_;
  }
  return id;
}

void EventLoop::OnConnect(const Completion& c, const UserData& ud) {
  const ConnectionId id{ud.slot, ud.generation};
  ConnectionSlot* slot = Lookup(id);
  if (slot == nullptr) {
    EventLoopStats::Inc(stats_.stale_completions);
    return;
  }
  if (slot->state == State::kConnecting && c.res == 0) {
    slot->state = State::kOpen;
    EventLoopStats::Inc(stats_.connections_connected);
    Touch(*slot);
    slot->handler->OnConnected(*this, id);
    if (slot->state == State::kOpen) {
      if (slot->read_enabled && !slot->recv_armed) ArmRecv(id.slot);
      // Bytes queued while connecting go out now (OnConnected may already have started them).
      if (!slot->send_queue.empty()) {
        ScheduleSend(id.slot);
      } else {
        AfterSendQueueDrained(id.slot);
      }
    }
  } else if (slot->state == State::kConnecting) {
    const std::string remote = slot->remote.ToString();
    absl::Status reason;
    if (c.res == -ECANCELED) {
      // Only the linked timeout cancels a connect of a slot that is not closing.
      EventLoopStats::Inc(stats_.connect_timeouts);
      const int64_t ms =
          slot->connect_timeout.tv_sec * 1000 + slot->connect_timeout.tv_nsec / 1'000'000;
      reason = absl::DeadlineExceededError(
          absl::StrCat("connect to ", remote, " timed out after ", ms, " ms"));
    } else {
      EventLoopStats::Inc(stats_.connect_failures);
      reason = absl::UnavailableError(
          absl::StrCat("connect to ", remote, " failed: ", std::strerror(-c.res)));
    }
    weft::log::Info("outbound connect failed",
                    {{"loop", options_.name}, {"conn", id.ToString()}, {"reason", reason}});
    Teardown(id.slot, std::move(reason));
  }
  OpFinished(id.slot);
}

void EventLoop::OnConnectTimeout(const Completion& /*c*/, const UserData& ud) {
  // -ETIME (fired; the connect completes with -ECANCELED) or -ECANCELED (connect finished
  // first). Either way only the accounting matters here.
  if (Lookup(ConnectionId{ud.slot, ud.generation}) == nullptr) {
    EventLoopStats::Inc(stats_.stale_completions);
    return;
  }
  OpFinished(ud.slot);
}

absl::StatusOr<ConnectionId> EventLoop::Adopt(ScopedFd fd,
                                              std::unique_ptr<ConnectionHandler> handler) {
  if (!fd.valid() || handler == nullptr) {
    return absl::InvalidArgumentError("Adopt: needs a valid fd and a handler");
  }
  const ConnectionId id = AllocateConnection(fd.Release(), State::kOpen);
  connections_[id.slot]->handler = std::move(handler);
  ArmRecv(id.slot);
  return id;
}

// --- Reads --------------------------------------------------------------------------------

void EventLoop::ArmRecv(uint32_t index) {
  ConnectionSlot& slot = *connections_[index];
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_recv_multishot(sqe, slot.fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffers_->group_id();
  io_uring_sqe_set_data64(sqe, UserData{OpKind::kRecv, slot.generation, index}.Encode());
  slot.recv_armed = true;
  ++slot.inflight;
  ++inflight_total_;
}

void EventLoop::OnRecv(const Completion& c, const UserData& ud) {
  const bool final = (c.flags & IORING_CQE_F_MORE) == 0;
  const bool has_buffer = (c.flags & IORING_CQE_F_BUFFER) != 0;
  const auto buffer_id = static_cast<uint16_t>(c.flags >> IORING_CQE_BUFFER_SHIFT);
  const ConnectionId id{ud.slot, ud.generation};
  ConnectionSlot* slot = Lookup(id);
  if (slot == nullptr) {
    EventLoopStats::Inc(stats_.stale_completions);
    if (has_buffer) buffers_->Recycle(buffer_id);
    return;
  }
  if (final) slot->recv_armed = false;

  if (c.res > 0 && has_buffer) {
    EventLoopStats::Inc(stats_.bytes_received, static_cast<uint64_t>(c.res));
    // After Close() the owner is done with the connection: bytes still arriving are dropped.
    if (slot->state == State::kOpen && !slot->close_after_flush) {
      Touch(*slot);
      slot->handler->OnData(*this, id, buffers_->View(buffer_id, static_cast<uint32_t>(c.res)));
    }
    buffers_->Recycle(buffer_id);
  } else if (c.res == 0) {
    slot->peer_closed = true;
    if (slot->state == State::kOpen && !slot->close_after_flush) {
      slot->handler->OnPeerClosed(*this, id);
    }
    if (slot->state == State::kOpen && slot->write_shut && slot->send_queue.empty()) {
      Teardown(id.slot, absl::OkStatus());
    }
  } else if (c.res == -ENOBUFS) {
    // The buffer ring ran dry: the kernel keeps the bytes in the socket and ends the request.
    // Re-arm after this batch, when handlers have returned their buffers; no data is lost.
    EventLoopStats::Inc(stats_.recv_buffers_exhausted);
    if (!logged_buffer_exhaustion_) {
      logged_buffer_exhaustion_ = true;
      weft::log::Warn(
          "receive buffer ring exhausted; reads re-armed after the batch (further "
          "occurrences only counted)",
          {{"loop", options_.name},
           {"buffers", options_.recv_buffer_count},
           {"buffer_size", options_.recv_buffer_size}});
    }
    if (!slot->rearm_scheduled) {
      slot->rearm_scheduled = true;
      rearm_queue_.push_back(id.slot);
    }
  } else if (c.res < 0 && c.res != -ECANCELED) {
    HandleIoError(id.slot, -c.res, "recv");
  }

  if (final && slot->state == State::kOpen && slot->read_enabled && !slot->peer_closed &&
      !slot->recv_armed && !slot->rearm_scheduled) {
    ArmRecv(id.slot);
  }
  if (final) OpFinished(id.slot);
}

absl::Status EventLoop::SetReadEnabled(ConnectionId id, bool enabled) {
  ConnectionSlot* slot = Lookup(id);
  if (slot == nullptr || slot->state == State::kClosing) {
    return absl::NotFoundError(absl::StrCat("connection ", id.ToString(), " is not open"));
  }
  if (slot->read_enabled == enabled) return absl::OkStatus();
  slot->read_enabled = enabled;
  if (!enabled && slot->recv_armed) {
    io_uring_sqe* sqe = GetSqe();
    io_uring_prep_cancel64(sqe, UserData{OpKind::kRecv, id.generation, id.slot}.Encode(), 0);
    io_uring_sqe_set_data64(sqe, UserData{OpKind::kIgnore, 0, 0}.Encode());
  } else if (enabled && !slot->recv_armed && !slot->rearm_scheduled && !slot->peer_closed &&
             slot->state == State::kOpen) {
    ArmRecv(id.slot);
  }
  return absl::OkStatus();
}

// --- Writes -------------------------------------------------------------------------------

absl::StatusOr<ConnectionSlot*> EventLoop::WritableSlot(ConnectionId id) {
  ConnectionSlot* slot = Lookup(id);
  if (slot == nullptr || slot->state == State::kClosing) {
    return absl::NotFoundError(absl::StrCat("connection ", id.ToString(), " is not open"));
  }
  if (slot->close_after_flush || slot->shutdown_after_flush || slot->write_shut) {
    return absl::FailedPreconditionError(
        absl::StrCat("connection ", id.ToString(), ": write side already closed"));
  }
  return slot;
}

absl::Status EventLoop::Send(ConnectionId id, std::string data) {
  absl::StatusOr<ConnectionSlot*> slot = WritableSlot(id);
  if (!slot.ok()) return slot.status();
  if (data.empty()) return absl::OkStatus();
  (*slot)->pending_send_bytes += data.size();
  (*slot)->send_queue.push_back(std::move(data));
  if ((*slot)->state == State::kOpen) ScheduleSend(id.slot);
  return absl::OkStatus();
}

absl::Status EventLoop::SendCopy(ConnectionId id, std::string_view data) {
  // Joining stops at this size, so one buffer never becomes a large copy of its own.
  constexpr size_t kJoinBelow = 64 * 1024;
  absl::StatusOr<ConnectionSlot*> writable = WritableSlot(id);
  if (!writable.ok()) return writable.status();
  ConnectionSlot& slot = **writable;
  // The last buffer may grow unless the in-flight sendmsg points into it.
  const bool tail_free =
      !slot.send_queue.empty() &&
      (!slot.send_inflight || slot.send_queue.size() > slot.send_inflight_buffers);
  if (!tail_free || slot.send_queue.back().size() + data.size() > kJoinBelow) {
    return Send(id, std::string(data));
  }
  slot.send_queue.back().append(data);
  slot.pending_send_bytes += data.size();
  if (slot.state == State::kOpen) ScheduleSend(id.slot);
  return absl::OkStatus();
}

void EventLoop::ScheduleSend(uint32_t index) {
  ConnectionSlot& slot = *connections_[index];
  if (slot.send_inflight || slot.send_scheduled) return;  // OnSend continues the queue
  slot.send_scheduled = true;
  send_schedule_queue_.push_back(index);
}

void EventLoop::SubmitSend(uint32_t index) {
  ConnectionSlot& slot = *connections_[index];
  // Gather several queued buffers into one sendmsg: fewer submissions when a handler queues
  // many small writes.
  size_t n = 0;
  for (auto it = slot.send_queue.begin();
       it != slot.send_queue.end() && n < ConnectionSlot::kMaxIov; ++it, ++n) {
    const size_t skip = (n == 0) ? slot.send_offset : 0;
    slot.iov[n].iov_base = const_cast<char*>(it->data()) + skip;
    slot.iov[n].iov_len = it->size() - skip;
  }
  slot.msg = msghdr{};
  slot.msg.msg_iov = slot.iov.data();
  slot.msg.msg_iovlen = n;
  io_uring_sqe* sqe = GetSqe();
  // MSG_NOSIGNAL: a reset peer must give EPIPE to this connection, not SIGPIPE to the process.
  io_uring_prep_sendmsg(sqe, slot.fd, &slot.msg, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, UserData{OpKind::kSend, slot.generation, index}.Encode());
  slot.send_inflight = true;
  slot.send_inflight_buffers = n;
  ++slot.inflight;
  ++inflight_total_;
}

void EventLoop::OnSend(const Completion& c, const UserData& ud) {
  const ConnectionId id{ud.slot, ud.generation};
  ConnectionSlot* slot = Lookup(id);
  if (slot == nullptr) {
    EventLoopStats::Inc(stats_.stale_completions);
    return;
  }
  slot->send_inflight = false;
  if (slot->state == State::kOpen) {
    if (c.res < 0) {
      HandleIoError(id.slot, -c.res, "send");
    } else {
      EventLoopStats::Inc(stats_.bytes_sent, static_cast<uint64_t>(c.res));
      Touch(*slot);
      size_t left = static_cast<size_t>(c.res);
      while (left > 0 && !slot->send_queue.empty()) {
        const size_t avail = slot->send_queue.front().size() - slot->send_offset;
        const size_t take = std::min(left, avail);
        left -= take;
        slot->pending_send_bytes -= take;
        slot->send_offset += take;
        if (slot->send_offset == slot->send_queue.front().size()) {
          slot->send_queue.pop_front();
          slot->send_offset = 0;
        }
      }
      // A partial send continues from where the kernel stopped.
      if (!slot->send_queue.empty()) {
        ScheduleSend(id.slot);
      } else {
        AfterSendQueueDrained(id.slot);
      }
    }
  }
  OpFinished(id.slot);
}

void EventLoop::AfterSendQueueDrained(uint32_t index) {
  ConnectionSlot& slot = *connections_[index];
  if (slot.state != State::kOpen) return;
  if (!slot.close_after_flush && slot.handler != nullptr) {
    slot.handler->OnSendDrained(*this, IdOf(index));
    if (slot.state != State::kOpen) return;
  }
  if (slot.shutdown_after_flush && !slot.write_shut) {
    slot.shutdown_after_flush = false;
    slot.write_shut = true;
    // shutdown(2) on a TCP socket only queues a FIN; it never blocks the loop.
    if (::shutdown(slot.fd, SHUT_WR) != 0) {
      HandleIoError(index, errno, "shutdown");
      return;
    }
  }
  if (slot.close_after_flush || (slot.write_shut && slot.peer_closed)) {
    Teardown(index, absl::OkStatus());
  }
}

absl::Status EventLoop::ShutdownWrite(ConnectionId id) {
  ConnectionSlot* slot = Lookup(id);
  if (slot == nullptr || slot->state == State::kClosing) {
    return absl::NotFoundError(absl::StrCat("connection ", id.ToString(), " is not open"));
  }
  if (slot->write_shut || slot->shutdown_after_flush) return absl::OkStatus();
  slot->shutdown_after_flush = true;
  if (slot->state == State::kOpen && !slot->send_inflight && slot->send_queue.empty()) {
    AfterSendQueueDrained(id.slot);
  }
  return absl::OkStatus();
}

// --- Teardown -----------------------------------------------------------------------------

absl::Status EventLoop::Close(ConnectionId id) {
  ConnectionSlot* slot = Lookup(id);
  if (slot == nullptr || slot->state == State::kClosing) {
    return absl::NotFoundError(absl::StrCat("connection ", id.ToString(), " is not open"));
  }
  slot->close_after_flush = true;
  if (slot->state == State::kConnecting) {
    Teardown(id.slot, absl::CancelledError("closed before the connect completed"));
  } else if (!slot->send_inflight && slot->send_queue.empty()) {
    Teardown(id.slot, absl::OkStatus());
  }
  return absl::OkStatus();
}

absl::Status EventLoop::Abort(ConnectionId id, absl::Status reason) {
  ConnectionSlot* slot = Lookup(id);
  if (slot == nullptr || slot->state == State::kClosing) {
    return absl::NotFoundError(absl::StrCat("connection ", id.ToString(), " is not open"));
  }
  Teardown(id.slot, reason.ok() ? absl::AbortedError("aborted locally") : std::move(reason));
  return absl::OkStatus();
}

void EventLoop::HandleIoError(uint32_t index, int err, const char* op) {
  const ConnectionId id = IdOf(index);
  absl::Status reason;
  if (err == ECONNRESET || err == EPIPE) {
    EventLoopStats::Inc(stats_.peer_resets);
    reason = absl::UnavailableError(
        absl::StrCat("connection reset by peer (", op, ": ", std::strerror(err), ")"));
  } else {
    EventLoopStats::Inc(stats_.io_errors);
    reason = absl::UnavailableError(absl::StrCat(op, " failed: ", std::strerror(err)));
  }
  weft::log::Info("connection failed; closing it",
                  {{"loop", options_.name}, {"conn", id.ToString()}, {"reason", reason}});
  Teardown(index, std::move(reason));
}

void EventLoop::Teardown(uint32_t index, absl::Status reason) {
  ConnectionSlot& slot = *connections_[index];
  if (slot.state == State::kClosing || slot.state == State::kFree) return;
  slot.state = State::kClosing;
  slot.close_reason = std::move(reason);
  if (slot.idle_timer.valid()) {
    CancelTimer(slot.idle_timer);
    slot.idle_timer = TimerId{};
  }
  // The send queue stays until Finalize: an in-flight sendmsg still points into it.
  if (slot.inflight > 0 && !slot.cancel_submitted) {
    io_uring_sqe* sqe = GetSqe();
    io_uring_prep_cancel_fd(sqe, slot.fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, UserData{OpKind::kIgnore, 0, 0}.Encode());
    slot.cancel_submitted = true;
  }
  if (slot.inflight == 0 && !slot.finalize_scheduled) {
    slot.finalize_scheduled = true;
    finalize_queue_.push_back(index);
  }
}

void EventLoop::OpFinished(uint32_t index) {
  ConnectionSlot& slot = *connections_[index];
  --slot.inflight;
  if (slot.state == State::kClosing && slot.inflight == 0 && !slot.finalize_scheduled) {
    slot.finalize_scheduled = true;
    finalize_queue_.push_back(index);
  }
}

void EventLoop::Finalize(uint32_t index) {
  ConnectionSlot& slot = *connections_[index];
  const ConnectionId id = IdOf(index);
  ::close(slot.fd);
  std::unique_ptr<ConnectionHandler> handler = std::move(slot.handler);
  absl::Status reason = std::move(slot.close_reason);
  const uint32_t next = UserData::NextGeneration(slot.generation);
  slot = ConnectionSlot{};
  slot.generation = next;
  free_connections_.push_back(index);
  --open_connections_;
  EventLoopStats::Inc(stats_.connections_closed);
  // The slot is free before the handler hears about it, so OnClosed may open connections.
  if (handler != nullptr) handler->OnClosed(*this, id, reason);
}

}  // namespace weft::event
