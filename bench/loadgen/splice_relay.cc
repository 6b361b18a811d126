#include "bench/loadgen/splice_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "bench/loadgen/monotonic_clock.h"
#include "bench/loadgen/tcp_socket.h"
#include "common/status/errno_status.h"

namespace weft::loadgen {
namespace {

// Bytes asked of one splice(2); the pipe is grown to match where the limit allows.
constexpr size_t kSpliceChunk = 1 << 20;

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
    if (fd < 0) return;  // EAGAIN, or a transient error retried on the next event
    auto pair = std::make_shared<SocketPair>();
    pair->downstream.Reset(fd);
    counters_->connections_accepted.fetch_add(1, std::memory_order_relaxed);
    SetNoDelay(fd);
    pair->upstream.Reset(socket(options_.upstream.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    // A blocking connect stalls the accept loop for one handshake: fine for a floor
    // measurement on a fabric that answers in microseconds, and it keeps this simple.
    if (!pair->upstream.valid() ||
        connect(pair->upstream.get(), options_.upstream.sockaddr_ptr(),
                options_.upstream.length()) != 0) {
      counters_->upstream_failures.fetch_add(1, std::memory_order_relaxed);
      continue;  // `pair` goes, closing the accepted socket
    }
    SetNoDelay(pair->upstream.get());
    std::thread(Pump, pair, true, counters_).detach();
    std::thread(Pump, pair, false, counters_).detach();
  }
}

}  // namespace weft::loadgen
