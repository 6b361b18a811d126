// Listeners of the event loop: one multishot accept per listening socket, re-armed when the
// kernel ends it, retried after a pause when accept itself fails.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/event/event_loop.h"
#include "common/log/logger.h"

namespace weft::event {
namespace {

using State = ConnectionSlot::State;

// Accept failures that clear up with time (fd or memory exhaustion): retry after a pause
// instead of spinning on an accept that fails at once.
constexpr std::chrono::milliseconds kAcceptRetryDelay(100);

}  // namespace

absl::StatusOr<ListenerId> EventLoop::AddListener(ScopedFd listen_fd, AcceptCallback on_accept) {
  if (!listen_fd.valid()) return absl::InvalidArgumentError("AddListener: invalid fd");
  if (!on_accept) return absl::InvalidArgumentError("AddListener: empty accept callback");
  uint32_t index;
  if (!free_listeners_.empty()) {
    index = free_listeners_.back();
    free_listeners_.pop_back();
  } else {
    index = static_cast<uint32_t>(listeners_.size());
    listeners_.push_back(std::make_unique<ListenerSlot>());
  }
  ListenerSlot& slot = *listeners_[index];
  absl::StatusOr<SocketAddress> local = SocketAddress::LocalOf(listen_fd.get());
  slot.address = local.ok() ? local->ToString() : "<unknown>";
  slot.fd = std::move(listen_fd);
  slot.on_accept = std::move(on_accept);
  slot.in_use = true;
  ArmAccept(index);
  return ListenerId{index, slot.generation};
}

absl::Status EventLoop::RemoveListener(ListenerId id) {
  if (!id.valid() || id.slot >= listeners_.size() || !listeners_[id.slot]->in_use ||
      listeners_[id.slot]->generation != id.generation || listeners_[id.slot]->removing) {
    return absl::NotFoundError(absl::StrCat("listener ", id.ToString(), " not found"));
  }
  ListenerSlot& slot = *listeners_[id.slot];
  slot.removing = true;
  if (!slot.armed) {
    FreeListener(id.slot);
    return absl::OkStatus();
  }
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_cancel64(sqe, UserData{OpKind::kAccept, slot.generation, id.slot}.Encode(), 0);
  io_uring_sqe_set_data64(sqe, UserData{OpKind::kIgnore, 0, 0}.Encode());
  return absl::OkStatus();
}

void EventLoop::FreeListener(uint32_t index) {
  ListenerSlot& slot = *listeners_[index];
  const uint32_t next = UserData::NextGeneration(slot.generation);
  slot = ListenerSlot{};
  slot.generation = next;
  free_listeners_.push_back(index);
}

void EventLoop::ArmAccept(uint32_t index) {
  ListenerSlot& slot = *listeners_[index];
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_multishot_accept(sqe, slot.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, UserData{OpKind::kAccept, slot.generation, index}.Encode());
  slot.armed = true;
  ++slot.inflight;
  ++inflight_total_;
}

void EventLoop::OnAccept(const Completion& c, const UserData& ud) {
  if (ud.slot >= listeners_.size() || !listeners_[ud.slot]->in_use ||
      listeners_[ud.slot]->generation != ud.generation) {
    EventLoopStats::Inc(stats_.stale_completions);
    if (c.res >= 0) ::close(c.res);
    return;
  }
  ListenerSlot& listener = *listeners_[ud.slot];
  const bool final = (c.flags & IORING_CQE_F_MORE) == 0;
  if (final) {
    listener.armed = false;
    --listener.inflight;
  }
  if (c.res >= 0 && listener.removing) {
    ::close(c.res);
  } else if (c.res >= 0) {
    EventLoopStats::Inc(stats_.connections_accepted);
    const ConnectionId id = AllocateConnection(c.res, State::kOpen);
    std::unique_ptr<ConnectionHandler> handler = listener.on_accept(id);
    ConnectionSlot& slot = *connections_[id.slot];
    if (handler == nullptr) {
      Teardown(id.slot, absl::CancelledError("refused by the listener's accept callback"));
    } else {
      // Installed even if the callback already closed the connection, so OnClosed is heard.
      slot.handler = std::move(handler);
      if (slot.state == State::kOpen && !slot.recv_armed && slot.read_enabled) ArmRecv(id.slot);
    }
  } else if (c.res != -ECANCELED) {
    EventLoopStats::Inc(stats_.accept_errors);
    weft::log::Warn("accept failed; retrying after a pause",
                    {{"loop", options_.name},
                     {"listener", listener.address},
                     {"errno", std::strerror(-c.res)},
                     {"retry_ms", static_cast<int64_t>(kAcceptRetryDelay.count())}});
  }
  if (!final) return;
  if (listener.removing) {
    FreeListener(ud.slot);
  } else if (c.res >= 0) {
    // The kernel ended the multishot request (e.g. CQ overflow); ask again.
    ArmAccept(ud.slot);
  } else {
    const ListenerId lid{ud.slot, ud.generation};
    AddTimer(kAcceptRetryDelay, [this, lid] {
      if (lid.slot < listeners_.size() && listeners_[lid.slot]->in_use &&
          listeners_[lid.slot]->generation == lid.generation && !listeners_[lid.slot]->armed &&
          !listeners_[lid.slot]->removing) {
        ArmAccept(lid.slot);
      }
    });
  }
}

}  // namespace weft::event
