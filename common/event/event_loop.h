// One io_uring per worker thread, callback based.
//
// The loop owns listening sockets (multishot accept), connections (multishot recv into a
// provided buffer ring, ordered sendmsg queue, half-close, close), outbound connects bounded by
// a linked timeout, timers, and a cross-thread task queue woken through an eventfd.
//
// Threading: Run() is called by exactly one thread, "the loop thread". Post() and Stop() may be
// called from any thread. Every other method must be called on the loop thread, or before Run()
// by the thread that will run it, or from a task passed to Post().
//
// Implementation is split by idea: event_loop.cc (ring, run loop, dispatch, cross-thread
// queue), event_loop_timers.cc (timers, idle timeouts), event_loop_listeners.cc (multishot
// accept), event_loop_connections.cc (connects, reads, writes, teardown).
#pragma once

#include <liburing.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/event/connection_handler.h"
#include "common/event/event_loop_stats.h"
#include "common/event/feature_probe.h"
#include "common/event/loop_slots.h"
#include "common/event/provided_buffer_ring.h"
#include "common/event/scoped_fd.h"
#include "common/event/slot_handle.h"
#include "common/event/socket_address.h"
#include "common/event/user_data.h"

namespace weft::event {

struct EventLoopOptions {
  std::string name = "event-loop";  // appears in logs
  uint32_t queue_depth = 1024;      // submission queue entries
  // Completion queue entries; 0 means 4x queue_depth, because multishot requests post many
  // completions per submission.
  uint32_t completion_queue_depth = 0;
  // Receive buffer ring shared by all connections of this loop (power of two buffers).
  uint32_t recv_buffer_count = 512;
  uint32_t recv_buffer_size = 16 * 1024;
};

class EventLoop {
 public:
  using AcceptCallback = std::function<std::unique_ptr<ConnectionHandler>(ConnectionId)>;

  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(const EventLoopOptions& options);
  // Cancels every outstanding request and waits (bounded) for the kernel to let go of the
  // loop's memory. Handlers still alive are destroyed without OnClosed.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Processes completions until Stop(). Returns an error only if the ring itself fails.
  absl::Status Run();
  // Any thread. Run() returns after the batch in progress.
  void Stop();
  // Any thread. `task` runs on the loop thread, in Post() order. Tasks still queued when the
  // loop is destroyed are dropped.
  void Post(std::function<void()> task);
  bool InLoopThread() const;

  // --- Listeners -------------------------------------------------------------------------
  // Takes ownership of a listening socket. `on_accept` is called for each new connection and
  // returns its handler, or nullptr to refuse it (closed at once).
  absl::StatusOr<ListenerId> AddListener(ScopedFd listen_fd, AcceptCallback on_accept);
  absl::Status RemoveListener(ListenerId id);

  // --- Connections ------------------------------------------------------------------------
  // Starts a non-blocking connect bounded by `timeout` (0 = no bound). The outcome reaches
  // `handler`: OnConnected, or OnClosed with the reason.
  absl::StatusOr<ConnectionId> Connect(const SocketAddress& remote,
                                       std::chrono::milliseconds timeout,
                                       std::unique_ptr<ConnectionHandler> handler);
  // Same, over a socket the caller made (in another network namespace, with a mark, bound):
  // it must be a non-blocking stream socket of `remote`'s family.
  absl::StatusOr<ConnectionId> ConnectSocket(ScopedFd socket, const SocketAddress& remote,
                                             std::chrono::milliseconds timeout,
                                             std::unique_ptr<ConnectionHandler> handler);
  // Takes over an already connected socket (e.g. one accepted elsewhere).
  absl::StatusOr<ConnectionId> Adopt(ScopedFd fd, std::unique_ptr<ConnectionHandler> handler);

  // Queues bytes behind everything queued before; the loop owns them until fully sent.
  absl::Status Send(ConnectionId id, std::string data);
  // Same, for bytes the caller keeps: they are copied, into the last queued buffer when the
  // kernel has not been handed that one yet (a relay's many small reads make few buffers).
  absl::Status SendCopy(ConnectionId id, std::string_view data);
  // Shuts down the write side once the send queue is empty; reads continue.
  absl::Status ShutdownWrite(ConnectionId id);
  // Orderly close: flushes the send queue, then closes. OnClosed(OK) follows.
  absl::Status Close(ConnectionId id);
  // Immediate close; queued bytes are dropped. OnClosed(reason) follows.
  absl::Status Abort(ConnectionId id, absl::Status reason);
  // Stops or resumes reading (backpressure when the other side of a proxy is slow). Data
  // already received by the kernel may still be delivered once after disabling.
  absl::Status SetReadEnabled(ConnectionId id, bool enabled);
  // Closes the connection with DeadlineExceeded after `timeout` without traffic in either
  // direction; 0 disables.
  absl::Status SetIdleTimeout(ConnectionId id, std::chrono::milliseconds timeout);

  // Stale ids give -1 / 0.
  int NativeFd(ConnectionId id) const;
  size_t PendingSendBytes(ConnectionId id) const;
  size_t connection_count() const { return open_connections_; }

  // --- Timers -----------------------------------------------------------------------------
  // `callback` runs once on the loop thread after `delay`, unless cancelled first.
  TimerId AddTimer(std::chrono::nanoseconds delay, std::function<void()> callback);
  // True if the timer was pending and will not fire.
  bool CancelTimer(TimerId id);

  const EventLoopStats& stats() const { return stats_; }
  const RingCapabilities& capabilities() const { return capabilities_; }
  const std::string& name() const { return options_.name; }

 private:
  struct Completion {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
  };

  explicit EventLoop(const EventLoopOptions& options);
  absl::Status Init();

  // Ring plumbing (event_loop.cc).
  io_uring_sqe* GetSqe();
  void EnsureSqSpace(unsigned n);
  void DrainCompletions();
  void Dispatch(const Completion& c);
  void ProcessDeferred();
  void ArmWakeup();
  void OnWakeup(const Completion& c);
  void RunPostedTasks();
  void CancelEverythingAndWait();

  // Timers (event_loop_timers.cc).
  void OnTimer(const Completion& c, const UserData& ud);
  void OnIdleTimer(ConnectionId id);
  void ArmIdleTimer(ConnectionSlot& slot, ConnectionId id, std::chrono::nanoseconds delay);

  // Connections (event_loop_connections.cc).
  ConnectionSlot* Lookup(ConnectionId id);
  // The slot of an open connection whose write side may still take bytes.
  absl::StatusOr<ConnectionSlot*> WritableSlot(ConnectionId id);
  const ConnectionSlot* Lookup(ConnectionId id) const;
  ConnectionId IdOf(uint32_t slot_index) const;
  ConnectionId AllocateConnection(int fd, ConnectionSlot::State state);
  void HandleIoError(uint32_t slot_index, int err, const char* op);
  void FreeListener(uint32_t listener_index);
  void ArmAccept(uint32_t listener_index);
  void OnAccept(const Completion& c, const UserData& ud);
  void ArmRecv(uint32_t slot_index);
  void OnRecv(const Completion& c, const UserData& ud);
  // Sends are gathered at the end of a completion batch: everything handlers queued in the
  // batch leaves in one sendmsg, so a proxy relaying many small reads writes large segments.
  void ScheduleSend(uint32_t slot_index);
  void SubmitSend(uint32_t slot_index);
  void OnSend(const Completion& c, const UserData& ud);
  void OnConnect(const Completion& c, const UserData& ud);
  void OnConnectTimeout(const Completion& c, const UserData& ud);
  void AfterSendQueueDrained(uint32_t slot_index);
  void Teardown(uint32_t slot_index, absl::Status reason);
  void OpFinished(uint32_t slot_index);
  void Finalize(uint32_t slot_index);
  void Touch(ConnectionSlot& slot);

  EventLoopOptions options_;
  io_uring ring_{};
  bool ring_initialized_ = false;
  RingCapabilities capabilities_;
  std::unique_ptr<ProvidedBufferRing> buffers_;
  EventLoopStats stats_;

  // Every submission that will produce a final completion (all but kIgnore); the destructor
  // waits for it to reach zero before freeing memory the kernel may still use.
  uint64_t inflight_total_ = 0;

  std::vector<std::unique_ptr<ConnectionSlot>> connections_;
  std::vector<uint32_t> free_connections_;
  size_t open_connections_ = 0;
  std::vector<std::unique_ptr<TimerSlot>> timers_;
  std::vector<uint32_t> free_timers_;
  std::vector<std::unique_ptr<ListenerSlot>> listeners_;
  std::vector<uint32_t> free_listeners_;

  // Work deferred to the end of a completion batch, so that handlers may call into the loop
  // re-entrantly without the slot they stand on disappearing under them.
  std::vector<uint32_t> finalize_queue_;
  std::vector<uint32_t> rearm_queue_;
  std::vector<uint32_t> send_schedule_queue_;
  bool logged_buffer_exhaustion_ = false;

  // Cross-thread hand-off.
  ScopedFd wake_fd_;
  uint64_t wake_value_ = 0;
  bool wake_armed_ = false;
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> stop_requested_{false};
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;  // guarded by posted_mu_
  std::atomic<std::thread::id> loop_thread_{};
  bool running_ = false;
};

}  // namespace weft::event
