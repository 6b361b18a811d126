#include "bench/loadgen/load_server.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <string>

#include "bench/loadgen/monotonic_clock.h"
#include "bench/loadgen/tcp_socket.h"
#include "bench/loadgen/wire_framing.h"
#include "common/status/errno_status.h"

namespace weft::loadgen {
namespace {

constexpr uint64_t kListenerTag = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kWakeupTag = kListenerTag - 1;
constexpr size_t kInputBufferSize = 64 * 1024;
// Reads or writes per readiness event before yielding to other connections: one
// connection streaming at full speed must not starve the rest of the loop.
constexpr int kIoBurst = 16;

enum class EchoPhase { kHeader, kRequestBody, kResponse };

}  // namespace

struct LoadServer::Connection {
  event::ScopedFd fd;
  uint32_t interest = 0;
  // Echo mode: bytes read but not yet consumed live in input[begin, end).
  std::vector<uint8_t> input;
  size_t begin = 0;
  size_t end = 0;
  EchoPhase phase = EchoPhase::kHeader;
  uint64_t request_remaining = 0;
  uint64_t response_remaining = 0;
};

absl::StatusOr<ServerMode> ParseServerMode(std::string_view text) {
  if (text == "echo") return ServerMode::kEcho;
  if (text == "sink") return ServerMode::kSink;
  if (text == "source") return ServerMode::kSource;
  return absl::InvalidArgumentError("--mode: expected echo, sink or source, got \"" +
                                    std::string(text) + "\"");
}

absl::StatusOr<std::unique_ptr<LoadServer>> LoadServer::Create(const ServerOptions& options) {
  absl::StatusOr<event::ScopedFd> listener = ListenNonBlocking(options.listen);
  if (!listener.ok()) return listener.status();
  absl::StatusOr<event::SocketAddress> bound = event::SocketAddress::LocalOf(listener->get());
  if (!bound.ok()) return bound.status();
  event::ScopedFd wakeup(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wakeup.valid()) return ErrnoStatus(errno, "eventfd", "load server");
  absl::StatusOr<std::unique_ptr<EpollSet>> epoll = EpollSet::Create();
  if (!epoll.ok()) return epoll.status();
  if (absl::Status s = (*epoll)->Add(listener->get(), EPOLLIN, kListenerTag); !s.ok()) return s;
  if (absl::Status s = (*epoll)->Add(wakeup.get(), EPOLLIN, kWakeupTag); !s.ok()) return s;
  return std::unique_ptr<LoadServer>(
      new LoadServer(options, std::move(*listener), std::move(wakeup), *bound, std::move(*epoll)));
}

LoadServer::LoadServer(const ServerOptions& options, event::ScopedFd listener,
                       event::ScopedFd wakeup, event::SocketAddress bound,
                       std::unique_ptr<EpollSet> epoll)
    : options_(options),
      listener_(std::move(listener)),
      wakeup_(std::move(wakeup)),
      bound_(bound),
      epoll_(std::move(epoll)),
      discard_(kInputBufferSize) {}

LoadServer::~LoadServer() = default;

void LoadServer::Stop() {
  const uint64_t one = 1;
  // A full eventfd counter already means "stop"; nothing to handle.
  [[maybe_unused]] ssize_t n = write(wakeup_.get(), &one, sizeof(one));
}

absl::Status LoadServer::Run() {
  const int64_t deadline = MonotonicNanos() + options_.max_duration_ns;
  while (MonotonicNanos() < deadline) {
    absl::StatusOr<int> ready = epoll_->WaitUntil(deadline);
    if (!ready.ok()) return ready.status();
    for (int i = 0; i < *ready; ++i) {
      const uint64_t tag = epoll_->tag(i);
      if (tag == kWakeupTag) return absl::OkStatus();
      if (tag == kListenerTag) {
        AcceptAll();
        continue;
      }
      auto it = connections_.find(static_cast<int>(tag));
      if (it != connections_.end()) Serve(*it->second, epoll_->events(i));
    }
  }
  return absl::OkStatus();
}

void LoadServer::AcceptAll() {
  while (true) {
    const int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE...) retried on the next event
    SetNoDelay(fd);
    auto connection = std::make_unique<Connection>();
    connection->fd.Reset(fd);
    const uint32_t interest = options_.mode == ServerMode::kSource ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    if (!epoll_->Add(fd, interest, static_cast<uint64_t>(fd)).ok()) continue;  // closes fd
    connection->interest = interest;
    if (options_.mode == ServerMode::kEcho) connection->input.resize(kInputBufferSize);
    ++counters_.connections_accepted;
    connections_[fd] = std::move(connection);
  }
}

void LoadServer::Serve(Connection& connection, uint32_t events) {
  bool open = (events & EPOLLERR) == 0;
  if (open) {
    switch (options_.mode) {
      case ServerMode::kEcho:
        open = ServeEcho(connection);
        break;
      case ServerMode::kSink:
        open = ServeSink(connection);
        break;
      case ServerMode::kSource:
        open = ServeSource(connection);
        break;
    }
  }
  if (!open) Close(connection.fd.get());
}

bool LoadServer::ParseBufferedRequests(Connection& c) {
  while (c.phase != EchoPhase::kResponse) {
    const size_t available = c.end - c.begin;
    if (c.phase == EchoPhase::kHeader) {
      if (available < kFrameHeaderSize) {
        // Keep a partial header at the front so the next read can complete it.
        std::copy(c.input.begin() + static_cast<long>(c.begin),
                  c.input.begin() + static_cast<long>(c.end), c.input.begin());
        c.end = available;
        c.begin = 0;
        return true;
      }
      const FrameHeader header = DecodeFrameHeader(c.input.data() + c.begin);
      c.begin += kFrameHeaderSize;
      if (!FrameHeaderAcceptable(header)) {
        ++counters_.protocol_errors;
        return false;
      }
      c.request_remaining = header.request_size;
      c.response_remaining = header.response_size;
      c.phase = EchoPhase::kRequestBody;
    }
    // kRequestBody: the payload is counted and dropped.
    const size_t body = std::min<uint64_t>(c.end - c.begin, c.request_remaining);
    c.begin += body;
    c.request_remaining -= body;
    if (c.request_remaining > 0) {
      c.begin = c.end = 0;  // everything buffered was payload
      return true;
    }
    ++counters_.requests_answered;
    c.phase = c.response_remaining > 0 ? EchoPhase::kResponse : EchoPhase::kHeader;
  }
  return true;
}

bool LoadServer::ServeEcho(Connection& c) {
  for (int burst = 0; burst < kIoBurst; ++burst) {
    if (c.phase == EchoPhase::kResponse) {
      const size_t chunk = std::min<uint64_t>(c.response_remaining, kZeroBytesSize);
      const ssize_t n = send(c.fd.get(), ZeroBytes(), chunk, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno != EAGAIN) return false;
        SetInterest(c, EPOLLOUT);
        return true;
      }
      counters_.bytes_sent += static_cast<uint64_t>(n);
      c.response_remaining -= static_cast<uint64_t>(n);
      if (c.response_remaining == 0) c.phase = EchoPhase::kHeader;
      continue;
    }
    if (!ParseBufferedRequests(c)) return false;
    if (c.phase == EchoPhase::kResponse) continue;
    const ssize_t n = read(c.fd.get(), c.input.data() + c.end, c.input.size() - c.end);
    if (n == 0) return false;
    if (n < 0) {
      if (errno != EAGAIN) return false;
      SetInterest(c, EPOLLIN);
      return true;
    }
    counters_.bytes_received += static_cast<uint64_t>(n);
    c.end += static_cast<size_t>(n);
  }
  // Burst used up. Bytes already read must not wait for more input that may never come
  // (the client waits for this answer): parse them now, and if an answer is owed, wait
  // for writability, which a socket with room reports at once.
  if (!ParseBufferedRequests(c)) return false;
  SetInterest(c, c.phase == EchoPhase::kResponse ? EPOLLOUT : EPOLLIN);
  return true;
}

bool LoadServer::ServeSink(Connection& c) {
  for (int burst = 0; burst < kIoBurst; ++burst) {
    const ssize_t n = read(c.fd.get(), discard_.data(), discard_.size());
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN;
    counters_.bytes_received += static_cast<uint64_t>(n);
  }
  return true;
}

bool LoadServer::ServeSource(Connection& c) {
  // Anything the client sends is discarded; reading it is how EOF and resets are seen.
  const ssize_t r = read(c.fd.get(), discard_.data(), discard_.size());
  if (r == 0 || (r < 0 && errno != EAGAIN)) return false;
  for (int burst = 0; burst < kIoBurst; ++burst) {
    const ssize_t n = send(c.fd.get(), ZeroBytes(), kZeroBytesSize, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN;
    counters_.bytes_sent += static_cast<uint64_t>(n);
  }
  return true;
}

void LoadServer::SetInterest(Connection& c, uint32_t events) {
  if (c.interest == events) return;
  if (epoll_->Modify(c.fd.get(), events, static_cast<uint64_t>(c.fd.get())).ok()) {
    c.interest = events;
  }
}

void LoadServer::Close(int fd) { connections_.erase(fd); }

}  // namespace weft::loadgen
