#include "common/event/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"

namespace weft::event {
namespace {

// Buffer-group id of the loop's only receive buffer ring.
constexpr uint16_t kRecvBufferGroup = 0;
constexpr unsigned kCompletionBatch = 256;

}  // namespace

void ConnectionHandler::OnPeerClosed(EventLoop& loop, ConnectionId id) { (void)loop.Close(id); }

EventLoop::EventLoop(const EventLoopOptions& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(const EventLoopOptions& options) {
  if (options.queue_depth == 0) {
    return absl::InvalidArgumentError("EventLoopOptions.queue_depth must be > 0");
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(options));
  absl::Status status = loop->Init();
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("event loop \"", options.name, "\": ", status.message()));
  }
  return loop;
}

absl::Status EventLoop::Init() {
  io_uring_params params;
  std::memset(&params, 0, sizeof(params));
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
  params.cq_entries = options_.completion_queue_depth != 0 ? options_.completion_queue_depth
                                                           : options_.queue_depth * 4;
  // COOP_TASKRUN: completions are only reaped by this thread when it enters the kernel anyway,
  // so skip the inter-processor interrupt per completion. Older kernels reject it: retry bare.
  params.flags |= IORING_SETUP_COOP_TASKRUN;
  int rc = io_uring_queue_init_params(options_.queue_depth, &ring_, &params);
  if (rc == -EINVAL) {
    params.flags &= ~IORING_SETUP_COOP_TASKRUN;
    rc = io_uring_queue_init_params(options_.queue_depth, &ring_, &params);
  }
  if (rc < 0) {
    return absl::ErrnoToStatus(
        -rc, absl::StrCat("io_uring_queue_init_params(depth ", options_.queue_depth, ")"));
  }
  ring_initialized_ = true;

  absl::StatusOr<RingCapabilities> caps = FeatureProbe::Probe(&ring_, params.features);
  if (!caps.ok()) return caps.status();
  capabilities_ = *caps;
  if (absl::Status s = FeatureProbe::CheckRequired(capabilities_); !s.ok()) return s;

  absl::StatusOr<std::unique_ptr<ProvidedBufferRing>> buffers = ProvidedBufferRing::Create(
      &ring_, kRecvBufferGroup, options_.recv_buffer_count, options_.recv_buffer_size);
  if (!buffers.ok()) return buffers.status();
  buffers_ = std::move(*buffers);

  wake_fd_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd_.valid()) return absl::ErrnoToStatus(errno, "eventfd for cross-thread wake-ups");
  loop_thread_.store(std::this_thread::get_id());
  ArmWakeup();
  return absl::OkStatus();
}

EventLoop::~EventLoop() {
  if (!ring_initialized_) return;
  CancelEverythingAndWait();
  // Handlers and sockets go now; the kernel no longer references any slot.
  for (auto& slot : connections_) {
    if (slot->fd >= 0) ::close(slot->fd);
    slot->handler.reset();
  }
  listeners_.clear();
  buffers_.reset();
  io_uring_queue_exit(&ring_);
}

void EventLoop::CancelEverythingAndWait() {
  if (inflight_total_ == 0) return;
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
  io_uring_sqe_set_data64(sqe, UserData{OpKind::kIgnore, 0, 0}.Encode());
  io_uring_submit(&ring_);
  // Bounded: a request the kernel cannot cancel (a send stuck in io-wq) must not hang exit.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (inflight_total_ > 0 && std::chrono::steady_clock::now() < deadline) {
    __kernel_timespec ts{0, 50'000'000};
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
    if (rc < 0 && rc != -ETIME && rc != -EINTR) break;
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      UserData ud = UserData::Decode(cqe->user_data);
      if (ud.kind != OpKind::kIgnore && (cqe->flags & IORING_CQE_F_MORE) == 0) --inflight_total_;
      if ((cqe->flags & IORING_CQE_F_BUFFER) != 0 && buffers_ != nullptr) {
        buffers_->Recycle(static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
      }
      ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
  }
  if (inflight_total_ > 0) {
    weft::log::Error("event loop exit: kernel still holds requests after cancel",
                     {{"loop", options_.name}, {"inflight", inflight_total_}});
  }
}

io_uring_sqe* EventLoop::GetSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    // Submission queue full: hand the batch to the kernel and take a fresh entry.
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  if (sqe == nullptr) {
    weft::log::Error("io_uring submission queue unusable after submit", {{"loop", options_.name}});
    std::abort();
  }
  return sqe;
}

void EventLoop::EnsureSqSpace(unsigned n) {
  if (io_uring_sq_space_left(&ring_) < n) io_uring_submit(&ring_);
}

absl::Status EventLoop::Run() {
  if (running_) return absl::FailedPreconditionError("EventLoop::Run called re-entrantly");
  running_ = true;
  loop_thread_.store(std::this_thread::get_id());
  absl::Status result = absl::OkStatus();
  while (!stop_requested_.load(std::memory_order_acquire)) {
    ProcessDeferred();
    int rc = io_uring_submit_and_wait(&ring_, 1);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME) {
      result = absl::ErrnoToStatus(
          -rc, absl::StrCat("io_uring_submit_and_wait in loop \"", options_.name, "\""));
      weft::log::Error("event loop stopped by ring failure", {{"error", result}});
      break;
    }
    DrainCompletions();
  }
  ProcessDeferred();
  io_uring_submit(&ring_);
  stop_requested_.store(false, std::memory_order_release);
  running_ = false;
  return result;
}

void EventLoop::Stop() {
  stop_requested_.store(true, std::memory_order_release);
  uint64_t one = 1;
  // Only the loop's blocking wait needs waking; an eventfd write never blocks (counter add).
  ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
  (void)n;
}

void EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(task));
  }
  // One eventfd write per wake-up, not per task: the loop drains the whole queue each time.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    uint64_t one = 1;
    ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
    (void)n;
  }
}

bool EventLoop::InLoopThread() const { return loop_thread_.load() == std::this_thread::get_id(); }

void EventLoop::ArmWakeup() {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_read(sqe, wake_fd_.get(), &wake_value_, sizeof(wake_value_), 0);
  io_uring_sqe_set_data64(sqe, UserData{OpKind::kWakeup, 0, 0}.Encode());
  wake_armed_ = true;
  ++inflight_total_;
}

void EventLoop::OnWakeup(const Completion& c) {
  wake_armed_ = false;
  if (c.res < 0 && c.res != -EAGAIN && c.res != -EINTR && c.res != -ECANCELED) {
    weft::log::Error("eventfd read failed; cross-thread wake-ups degrade to next completion",
                     {{"loop", options_.name}, {"errno", std::strerror(-c.res)}});
  }
  RunPostedTasks();
  if (c.res != -ECANCELED) ArmWakeup();
}

void EventLoop::RunPostedTasks() {
  // Reset before taking the queue: a Post() racing with us either lands in this batch or
  // sees the flag clear and writes the eventfd again.
  wake_pending_.store(false, std::memory_order_release);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) {
    task();
    EventLoopStats::Inc(stats_.tasks_run);
  }
}

void EventLoop::DrainCompletions() {
  Completion batch[kCompletionBatch];
  io_uring_cqe* cqes[kCompletionBatch];
  for (;;) {
    unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, kCompletionBatch);
    if (n == 0) break;
    // Copy out and release the CQ entries before running handlers, so the kernel can keep
    // posting while handlers work.
    for (unsigned i = 0; i < n; ++i) {
      batch[i] = Completion{cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
    }
    io_uring_cq_advance(&ring_, n);
    EventLoopStats::Inc(stats_.completion_batches);
    EventLoopStats::Inc(stats_.completions, n);
    for (unsigned i = 0; i < n; ++i) Dispatch(batch[i]);
    ProcessDeferred();
    if (n < kCompletionBatch) break;
  }
}

void EventLoop::Dispatch(const Completion& c) {
  const UserData ud = UserData::Decode(c.user_data);
  if (ud.kind != OpKind::kIgnore && (c.flags & IORING_CQE_F_MORE) == 0) --inflight_total_;
  switch (ud.kind) {
    case OpKind::kIgnore:
      return;
    case OpKind::kWakeup:
      OnWakeup(c);
      return;
    case OpKind::kAccept:
      OnAccept(c, ud);
      return;
    case OpKind::kRecv:
      OnRecv(c, ud);
      return;
    case OpKind::kSend:
      OnSend(c, ud);
      return;
    case OpKind::kConnect:
      OnConnect(c, ud);
      return;
    case OpKind::kConnectTimeout:
      OnConnectTimeout(c, ud);
      return;
    case OpKind::kTimer:
      OnTimer(c, ud);
      return;
  }
  weft::log::Error("completion with unknown operation kind",
                   {{"loop", options_.name}, {"user_data", c.user_data}});
  std::abort();
}

void EventLoop::ProcessDeferred() {
  // Re-arms first: a connection whose reads ran dry on buffers gets them back now that the
  // batch's handlers have returned their buffers.
  while (!rearm_queue_.empty()) {
    std::vector<uint32_t> rearm;
    rearm.swap(rearm_queue_);
    for (uint32_t index : rearm) {
      ConnectionSlot& slot = *connections_[index];
      slot.rearm_scheduled = false;
      if (slot.state == ConnectionSlot::State::kOpen && slot.read_enabled && !slot.recv_armed &&
          !slot.peer_closed) {
        ArmRecv(index);
      }
    }
  }
  // Then sends, before any slot is finalized (and possibly reused): an index whose flag is
  // gone belonged to a connection that closed meanwhile.
  if (!send_schedule_queue_.empty()) {
    std::vector<uint32_t> sends;
    sends.swap(send_schedule_queue_);
    for (uint32_t index : sends) {
      ConnectionSlot& slot = *connections_[index];
      if (!slot.send_scheduled) continue;
      slot.send_scheduled = false;
      if (slot.state == ConnectionSlot::State::kOpen && !slot.send_inflight &&
          !slot.send_queue.empty()) {
        SubmitSend(index);
      }
    }
  }
  while (!finalize_queue_.empty()) {
    std::vector<uint32_t> finalize;
    finalize.swap(finalize_queue_);
    for (uint32_t index : finalize) Finalize(index);
  }
}

}  // namespace weft::event
