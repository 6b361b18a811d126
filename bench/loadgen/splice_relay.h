// `weft-loadgen server --mode relay`: the cheapest user-space hop there is, to put a floor
// under what any proxy costs. Each accepted connection gets a connection to `upstream`
// and two threads, one per direction, moving bytes with splice(2) through a pipe, so the
// payload never enters user space: no copy, no framing, no encryption. Two relays in a
// row (client netns -> server netns -> app) are the path of a two-proxy mesh with every
// proxy cost but the kernel's taken out; `weftctl bench` runs it as the `splice-relay`
// mode. An EOF in one direction is passed on as a half-close; an error ends both.
// Callers ignore SIGPIPE: a splice into a socket the peer reset raises it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/event/scoped_fd.h"
#include "common/event/socket_address.h"

namespace weft::loadgen {

struct SpliceRelayOptions {
  event::SocketAddress listen;
  event::SocketAddress upstream;
  int64_t max_duration_ns = int64_t{600} * 1'000'000'000;
};

struct SpliceRelayCounters {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> upstream_failures{0};  // the accepted side is closed at once
  std::atomic<uint64_t> relay_failures{0};     // accept, pipe or thread creation failed
  std::atomic<uint64_t> bytes_relayed{0};      // both directions
};

class SpliceRelay {
 public:
  // Binds and listens at once, so address() is valid (and connectable) on return.
  static absl::StatusOr<std::unique_ptr<SpliceRelay>> Create(const SpliceRelayOptions& options);
  ~SpliceRelay();

  const event::SocketAddress& address() const { return bound_; }
  // Accepts until Stop() or the deadline. Relay threads are detached; they end with their
  // connections or with the process.
  absl::Status Run();
  void Stop();  // async-signal-safe (an eventfd write)
  const SpliceRelayCounters& counters() const { return *counters_; }

 private:
  SpliceRelay(const SpliceRelayOptions& options, event::ScopedFd listener,
              event::ScopedFd wakeup, event::SocketAddress bound);
  void AcceptAll();
  // Non-blocking connect bounded by kConnectTimeoutMs and by Stop(); blocking on success.
  absl::StatusOr<event::ScopedFd> ConnectUpstream();

  SpliceRelayOptions options_;
  event::ScopedFd listener_;
  event::ScopedFd wakeup_;
  event::SocketAddress bound_;
  // Shared with the detached threads, which may outlive Run().
  std::shared_ptr<SpliceRelayCounters> counters_;
};

}  // namespace weft::loadgen
