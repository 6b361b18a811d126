// A thin epoll wrapper for the load generator's single-threaded loops (client and server).
// epoll rather than the io_uring EventLoop because a load generator wants the fewest moving
// parts between "the deadline passed" and "the request is on the wire": WaitUntil() sleeps
// with nanosecond resolution (epoll_pwait2) until a monotonic deadline, which is what an
// open-loop schedule needs.
#pragma once

#include <sys/epoll.h>

#include <array>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/event/scoped_fd.h"

namespace weft::loadgen {

class EpollSet {
 public:
  static absl::StatusOr<std::unique_ptr<EpollSet>> Create();

  // `tag` comes back in ready events (connection slot, listener marker, ...).
  absl::Status Add(int fd, uint32_t events, uint64_t tag);
  absl::Status Modify(int fd, uint32_t events, uint64_t tag);
  // Closing an fd removes it too; this is for fds that stay open.
  void Remove(int fd);

  // Sleeps until an event or until CLOCK_MONOTONIC reaches `deadline_ns` (a deadline in
  // the past polls). Returns the number of ready events; 0 on timeout or a signal.
  absl::StatusOr<int> WaitUntil(int64_t deadline_ns);
  uint32_t events(int i) const { return ready_[static_cast<size_t>(i)].events; }
  uint64_t tag(int i) const { return ready_[static_cast<size_t>(i)].data.u64; }

 private:
  explicit EpollSet(event::ScopedFd fd) : fd_(std::move(fd)) {}

  event::ScopedFd fd_;
  std::array<epoll_event, 128> ready_{};
};

}  // namespace weft::loadgen
