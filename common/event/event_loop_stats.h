// Counters the event loop keeps about itself, in particular every failure it handles
// (STYLE rule 4). Written by the loop thread, readable from any thread (relaxed atomics);
// common/admin exports them to /metrics.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::event {

struct EventLoopStats {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_connected{0};
  std::atomic<uint64_t> connections_closed{0};
  std::atomic<uint64_t> accept_errors{0};
  std::atomic<uint64_t> connect_failures{0};
  std::atomic<uint64_t> connect_timeouts{0};
  std::atomic<uint64_t> peer_resets{0};  // ECONNRESET / EPIPE on recv or send
  std::atomic<uint64_t> io_errors{0};    // any other recv/send failure
  std::atomic<uint64_t> idle_timeouts{0};
  std::atomic<uint64_t> recv_buffers_exhausted{0};  // ENOBUFS: buffer ring ran dry, re-armed
  std::atomic<uint64_t> bytes_received{0};
  std::atomic<uint64_t> bytes_sent{0};
  std::atomic<uint64_t> timers_fired{0};
  std::atomic<uint64_t> tasks_run{0};
  std::atomic<uint64_t> stale_completions{0};  // completion for a reused slot, dropped
  std::atomic<uint64_t> completion_batches{0};
  std::atomic<uint64_t> completions{0};

  static uint64_t Get(const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); }
  static void Inc(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

}  // namespace weft::event
