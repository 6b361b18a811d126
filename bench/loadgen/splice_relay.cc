#include "bench/loadgen/splice_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <thread>

#include "bench/loadgen/monotonic_clock.h"
#include "bench/loadgen/tcp_socket.h"
#include "common/status/errno_status.h"

namespace weft::loadgen {
namespace {

// Bytes asked of one splice(2); the pipe is grown to match where the limit allows.
constexpr size_t kSpliceChunk = 1 << 20;
// Bound on one upstream handshake (the lab's fabric answers in microseconds).
constexpr int kConnectTimeoutMs = 2000;

// Both sockets of one relayed connection. Closed when the last direction lets go.
struct SocketPair {
  event::ScopedFd downstream;
  event::ScopedFd upstream;
};

// One direction: from -> pipe -> to until EOF (then half-close `to`) or an error (then
// shut both sockets down, which also ends the other direction's blocking splice).
void Pump(std::shared_ptr<SocketPair> pair, bool downstream_to_upstream,
          std::shared_ptr<SpliceRelayCounters> counters) {
  const int from = downstream_to_upstream ? pair->downstream.get() : pair->upstream.get();
  const int to = downstream_to_upstream ? pair->upstream.get() : pair->downstream.get();
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    counters->relay_failures.fetch_add(1, std::memory_order_relaxed);
    shutdown(from, SHUT_RDWR);
    shutdown(to, SHUT_RDWR);
    return;
  }
  event::ScopedFd pipe_read(pipe_fds[0]);
  event::ScopedFd pipe_write(pipe_fds[1]);
  (void)fcntl(pipe_write.get(), F_SETPIPE_SZ, static_cast<int>(kSpliceChunk));  // best effort
  bool failed = false;
  while (!failed) {
    const ssize_t in = splice(from, nullptr, pipe_write.get(), nullptr, kSpliceChunk, SPLICE_F_MOVE);
    if (in < 0 && errno == EINTR) continue;
    if (in <= 0) {
      failed = in < 0;
      break;
    }
    size_t left = static_cast<size_t>(in);
    while (left > 0) {
      const ssize_t out = splice(pipe_read.get(), nullptr, to, nullptr, left, SPLICE_F_MOVE);
      if (out < 0 && errno == EINTR) continue;
      if (out <= 0) {
        failed = true;
        break;
      }
      left -= static_cast<size_t>(out);
    }
    counters->bytes_relayed.fetch_add(static_cast<uint64_t>(in) - left,
                                      std::memory_order_relaxed);
  }
  if (failed) {
    shutdown(from, SHUT_RDWR);
    shutdown(to, SHUT_RDWR);
  } else {
    shutdown(to, SHUT_WR);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<SpliceRelay>> SpliceRelay::Create(
    const SpliceRelayOptions& options) {
  absl::StatusOr<event::ScopedFd> listener = ListenNonBlocking(options.listen);
  if (!listener.ok()) return listener.status();
  absl::StatusOr<event::SocketAddress> bound = event::SocketAddress::LocalOf(listener->get());
  if (!bound.ok()) return bound.status();
  event::ScopedFd wakeup(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wakeup.valid()) return ErrnoStatus(errno, "eventfd", "splice relay");
  return std::unique_ptr<SpliceRelay>(
      new SpliceRelay(options, std::move(*listener), std::move(wakeup), *bound));
}

SpliceRelay::SpliceRelay(const SpliceRelayOptions& options, event::ScopedFd listener,
                         event::ScopedFd wakeup, event::SocketAddress bound)
    : options_(options),
      listener_(std::move(listener)),
      wakeup_(std::move(wakeup)),
      bound_(bound),
      counters_(std::make_shared<SpliceRelayCounters>()) {}

SpliceRelay::~SpliceRelay() = default;

void SpliceRelay::Stop() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wakeup_.get(), &one, sizeof(one));
}

absl::Status SpliceRelay::Run() {
  const int64_t deadline = MonotonicNanos() + options_.max_duration_ns;
  while (true) {
    const int64_t left_ns = deadline - MonotonicNanos();
    if (left_ns <= 0) return absl::OkStatus();
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wakeup_.get(), POLLIN, 0}};
    const int timeout_ms = static_cast<int>(std::min<int64_t>(left_ns / 1'000'000 + 1, 1000));
    const int ready = poll(fds, 2, timeout_ms);
    if (ready < 0 && errno != EINTR) return ErrnoStatus(errno, "poll", "splice relay");
    if (ready <= 0) continue;
    if (fds[1].revents != 0) return absl::OkStatus();
    if (fds[0].revents != 0) AcceptAll();
  }
}

void SpliceRelay::AcceptAll() {
  while (true) {
    // Blocking sockets: each direction's thread simply sleeps in splice().
    const int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      // EMFILE and friends: the listener stays readable, so do not spin on it.
      counters_->relay_failures.fetch_add(1, std::memory_order_relaxed);
      poll(nullptr, 0, 10);
      return;
    }
    auto pair = std::make_shared<SocketPair>();
    pair->downstream.Reset(fd);
    counters_->connections_accepted.fetch_add(1, std::memory_order_relaxed);
    SetNoDelay(fd);
    absl::StatusOr<event::ScopedFd> upstream = ConnectUpstream();
    if (!upstream.ok()) {
      counters_->upstream_failures.fetch_add(1, std::memory_order_relaxed);
      continue;  // `pair` goes, closing the accepted socket
    }
    pair->upstream = std::move(*upstream);
    SetNoDelay(pair->upstream.get());
    try {
      std::thread(Pump, pair, true, counters_).detach();
    } catch (const std::system_error&) {
      counters_->relay_failures.fetch_add(1, std::memory_order_relaxed);
      continue;  // no thread holds `pair`: both sockets close
    }
    try {
      std::thread(Pump, pair, false, counters_).detach();
    } catch (const std::system_error&) {
      // The first direction is running: shutting both sockets down ends it.
      counters_->relay_failures.fetch_add(1, std::memory_order_relaxed);
      shutdown(pair->downstream.get(), SHUT_RDWR);
      shutdown(pair->upstream.get(), SHUT_RDWR);
    }
  }
}

absl::StatusOr<event::ScopedFd> SpliceRelay::ConnectUpstream() {
  event::ScopedFd fd(
      socket(options_.upstream.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus(errno, "socket", "splice relay upstream");
  if (connect(fd.get(), options_.upstream.sockaddr_ptr(), options_.upstream.length()) != 0) {
    if (errno != EINPROGRESS) return ErrnoStatus(errno, "connect", options_.upstream.ToString());
    // Bounded, and a Stop() meanwhile wins: an upstream that drops SYNs must not hold the
    // accept loop (or SIGTERM) for the kernel's two minutes of retries.
    pollfd fds[2] = {{fd.get(), POLLOUT, 0}, {wakeup_.get(), POLLIN, 0}};
    int ready;
    do {
      ready = poll(fds, 2, kConnectTimeoutMs);
    } while (ready < 0 && errno == EINTR);
    if (ready <= 0 || fds[1].revents != 0 || fds[0].revents == 0) {
      return absl::DeadlineExceededError("splice relay: upstream connect did not complete");
    }
    const int error = PendingConnectError(fd.get());
    if (error != 0) return ErrnoStatus(error, "connect", options_.upstream.ToString());
  }
  // Back to blocking for the pump threads.
  const int flags = fcntl(fd.get(), F_GETFL);
  if (flags < 0 || fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "fcntl(~O_NONBLOCK)", "splice relay upstream");
  }
  return fd;
}

}  // namespace weft::loadgen
