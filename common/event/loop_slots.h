// Per-slot state of the event loop's tables. Internal to common/event: only EventLoop's
// implementation files include it.
//
// Slots live behind unique_ptr and are never moved, because the kernel holds pointers into
// them (msghdr/iovec of an in-flight send, timespecs of timeouts) until the completion.
#pragma once

#include <linux/time_types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/event/connection_handler.h"
#include "common/event/scoped_fd.h"
#include "common/event/slot_handle.h"
#include "common/event/socket_address.h"

namespace weft::event {

using MonotonicTime = std::chrono::steady_clock::time_point;

struct ConnectionSlot {
  enum class State { kFree, kConnecting, kOpen, kClosing };
  // How many queued send buffers one sendmsg gathers.
  static constexpr size_t kMaxIov = 16;

  uint32_t generation = 0;
  State state = State::kFree;
  int fd = -1;
  std::unique_ptr<ConnectionHandler> handler;

  // Submissions whose final completion has not arrived; the slot (and its fd) is released
  // only at zero, so the kernel never writes into a slot's next occupant.
  uint32_t inflight = 0;
  bool cancel_submitted = false;
  bool finalize_scheduled = false;
  absl::Status close_reason;

  // Reads.
  bool recv_armed = false;
  bool read_enabled = true;
  bool rearm_scheduled = false;  // deferred re-arm after ENOBUFS
  bool peer_closed = false;

  // Writes, in order. The head buffer is partially sent when send_offset > 0.
  std::deque<std::string> send_queue;
  size_t send_offset = 0;
  size_t pending_send_bytes = 0;
  bool send_inflight = false;
  size_t send_inflight_buffers = 0;  // queue entries the in-flight sendmsg points into
  bool send_scheduled = false;  // a sendmsg goes out at the end of the completion batch
  bool shutdown_after_flush = false;
  bool close_after_flush = false;
  bool write_shut = false;
  std::array<iovec, kMaxIov> iov{};
  msghdr msg{};

  // Outbound connect.
  SocketAddress remote;
  __kernel_timespec connect_timeout{};

  // Idle timeout, checked lazily by one timer per connection.
  std::chrono::nanoseconds idle_timeout{0};
  MonotonicTime last_activity{};
  TimerId idle_timer;
};

struct TimerSlot {
  uint32_t generation = 0;
  bool in_use = false;
  bool cancelled = false;
  std::function<void()> callback;
  __kernel_timespec when{};
};

struct ListenerSlot {
  uint32_t generation = 0;
  bool in_use = false;
  bool removing = false;
  bool armed = false;
  uint32_t inflight = 0;
  ScopedFd fd;
  std::string address;  // for logs
  std::function<std::unique_ptr<ConnectionHandler>(ConnectionId)> on_accept;
};

}  // namespace weft::event
