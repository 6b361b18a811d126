#include "bench/loadgen/epoll_set.h"

#include <errno.h>

#include <algorithm>

#include "bench/loadgen/monotonic_clock.h"
#include "common/status/errno_status.h"

namespace weft::loadgen {

absl::StatusOr<std::unique_ptr<EpollSet>> EpollSet::Create() {
  event::ScopedFd fd(epoll_create1(EPOLL_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "epoll_create1");
  return std::unique_ptr<EpollSet>(new EpollSet(std::move(fd)));
}

absl::Status EpollSet::Add(int fd, uint32_t events, uint64_t tag) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = tag;
  if (epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    return ErrnoStatus(errno, "epoll_ctl(ADD)");
  }
  return absl::OkStatus();
}

absl::Status EpollSet::Modify(int fd, uint32_t events, uint64_t tag) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = tag;
  if (epoll_ctl(fd_.get(), EPOLL_CTL_MOD, fd, &event) != 0) {
    return ErrnoStatus(errno, "epoll_ctl(MOD)");
  }
  return absl::OkStatus();
}

void EpollSet::Remove(int fd) { epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr); }

absl::StatusOr<int> EpollSet::WaitUntil(int64_t deadline_ns) {
  const int64_t wait_ns = std::max<int64_t>(0, deadline_ns - MonotonicNanos());
  timespec timeout{};
  timeout.tv_sec = wait_ns / kNanosPerSecond;
  timeout.tv_nsec = wait_ns % kNanosPerSecond;
  const int n =
      epoll_pwait2(fd_.get(), ready_.data(), static_cast<int>(ready_.size()), &timeout, nullptr);
  if (n < 0) {
    if (errno == EINTR) return 0;
    return ErrnoStatus(errno, "epoll_pwait2");
  }
  return n;
}

}  // namespace weft::loadgen
