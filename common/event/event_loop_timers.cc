// Timers (IORING_OP_TIMEOUT, one request per timer) and the per-connection idle timeout
// built on them.
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/event/event_loop.h"
#include "common/log/logger.h"

namespace weft::event {
namespace {

__kernel_timespec ToTimespec(std::chrono::nanoseconds d) {
  if (d.count() < 0) d = std::chrono::nanoseconds(0);
  __kernel_timespec ts;
  ts.tv_sec = d.count() / 1'000'000'000;
  ts.tv_nsec = d.count() % 1'000'000'000;
  return ts;
}

}  // namespace

TimerId EventLoop::AddTimer(std::chrono::nanoseconds delay, std::function<void()> callback) {
  uint32_t index;
  if (!free_timers_.empty()) {
    index = free_timers_.back();
    free_timers_.pop_back();
  } else {
    index = static_cast<uint32_t>(timers_.size());
    timers_.push_back(std::make_unique<TimerSlot>());
  }
  TimerSlot& slot = *timers_[index];
  slot.in_use = true;
  slot.cancelled = false;
  slot.callback = std::move(callback);
  slot.when = ToTimespec(delay);

  io_uring_sqe* sqe = GetSqe();
  // count 0: a pure timer, not "N completions or the timeout".
  io_uring_prep_timeout(sqe, &slot.when, 0, 0);
  io_uring_sqe_set_data64(sqe, UserData{OpKind::kTimer, slot.generation, index}.Encode());
  ++inflight_total_;
  return TimerId{index, slot.generation};
}

bool EventLoop::CancelTimer(TimerId id) {
  if (!id.valid() || id.slot >= timers_.size()) return false;
  TimerSlot& slot = *timers_[id.slot];
  if (!slot.in_use || slot.generation != id.generation || slot.cancelled) return false;
  // Marked first: if the expiry completion is already in this batch, it must not fire.
  slot.cancelled = true;
  slot.callback = nullptr;
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_timeout_remove(sqe, UserData{OpKind::kTimer, id.generation, id.slot}.Encode(), 0);
  io_uring_sqe_set_data64(sqe, UserData{OpKind::kIgnore, 0, 0}.Encode());
  return true;
}

void EventLoop::OnTimer(const Completion& c, const UserData& ud) {
  if (ud.slot >= timers_.size() || timers_[ud.slot]->generation != ud.generation ||
      !timers_[ud.slot]->in_use) {
    EventLoopStats::Inc(stats_.stale_completions);
    return;
  }
  TimerSlot& slot = *timers_[ud.slot];
  std::function<void()> callback;
  if (c.res == -ETIME && !slot.cancelled) {
    callback = std::move(slot.callback);
  } else if (c.res != -ETIME && c.res != -ECANCELED) {
    weft::log::Error("timer completed with unexpected result; callback not run",
                     {{"loop", options_.name}, {"errno", std::strerror(-c.res)}});
  }
  // Free the slot before running the callback, which may add timers of its own.
  slot.in_use = false;
  slot.cancelled = false;
  slot.callback = nullptr;
  slot.generation = UserData::NextGeneration(slot.generation);
  free_timers_.push_back(ud.slot);
  if (callback) {
    EventLoopStats::Inc(stats_.timers_fired);
    callback();
  }
}

absl::Status EventLoop::SetIdleTimeout(ConnectionId id, std::chrono::milliseconds timeout) {
  ConnectionSlot* slot = Lookup(id);
  if (slot == nullptr || slot->state == ConnectionSlot::State::kClosing) {
    return absl::NotFoundError(absl::StrCat("connection ", id.ToString(), " is not open"));
  }
  slot->idle_timeout = timeout;
  slot->last_activity = std::chrono::steady_clock::now();
  if (slot->idle_timer.valid()) {
    CancelTimer(slot->idle_timer);
    slot->idle_timer = TimerId{};
  }
  if (timeout.count() > 0) ArmIdleTimer(*slot, id, timeout);
  return absl::OkStatus();
}

void EventLoop::ArmIdleTimer(ConnectionSlot& slot, ConnectionId id,
                             std::chrono::nanoseconds delay) {
  slot.idle_timer = AddTimer(delay, [this, id] { OnIdleTimer(id); });
}

void EventLoop::OnIdleTimer(ConnectionId id) {
  ConnectionSlot* slot = Lookup(id);
  if (slot == nullptr || slot->state == ConnectionSlot::State::kClosing) return;
  slot->idle_timer = TimerId{};
  if (slot->idle_timeout.count() == 0) return;
  // Activity only stamps a time; the single timer re-arms for the remainder, so busy
  // connections cost no timer operations per read or write.
  const auto idle_for = std::chrono::steady_clock::now() - slot->last_activity;
  if (idle_for < slot->idle_timeout) {
    ArmIdleTimer(*slot, id, slot->idle_timeout - idle_for);
    return;
  }
  EventLoopStats::Inc(stats_.idle_timeouts);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(slot->idle_timeout);
  weft::log::Info("closing idle connection",
                  {{"loop", options_.name}, {"conn", id.ToString()}, {"idle_ms", ms.count()}});
  Teardown(id.slot, absl::DeadlineExceededError(
                        absl::StrCat("connection idle for more than ", ms.count(), " ms")));
}

}  // namespace weft::event
