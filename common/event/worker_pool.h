// N worker threads, each running its own EventLoop; the workers share nothing.
//
// Spreading connections: every worker owns its own SO_REUSEPORT listener on the same address
// and the kernel hashes each new connection to one of them. Chosen over one acceptor thread
// handing fds out through Post() because (a) an accepted connection never crosses a thread,
// so there is no hand-off queue, wake-up or extra latency on the accept path, (b) no single
// acceptor becomes the bottleneck or the single point of stall, and (c) it is the same
// mechanism ztunnel uses to let a new process bind its ports while the old one drains.
// The cost: distribution is by flow hash, not by load, and connections hashed to a stalled
// worker wait for it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/event/event_loop.h"
#include "common/event/socket_address.h"

namespace weft::event {

struct WorkerPoolOptions {
  size_t workers = 0;  // 0: one per online CPU
  EventLoopOptions loop;
};

class WorkerPool {
 public:
  // Per-worker accept callback factory; called once per worker, on the caller's thread.
  using AcceptCallbackFactory = std::function<EventLoop::AcceptCallback(size_t worker)>;

  static absl::StatusOr<std::unique_ptr<WorkerPool>> Create(const WorkerPoolOptions& options);
  // Stops and joins the workers.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Opens one SO_REUSEPORT listener per worker on `address` and hands each to its worker.
  // With port 0 the first listener picks a port and the others join it. Returns the bound
  // address. May be called before or after Start().
  absl::StatusOr<SocketAddress> Listen(const SocketAddress& address,
                                       const AcceptCallbackFactory& make_accept);

  // Starts one thread per worker running its loop.
  void Start();
  // Any thread; then Join().
  void Stop();
  void Join();

  size_t size() const { return loops_.size(); }
  // Post() to it from any thread; touch it directly only from its own worker.
  EventLoop& loop(size_t worker) { return *loops_[worker]; }
  // What Run() returned on that worker (OK while running).
  absl::Status worker_status(size_t worker) const { return results_[worker]; }

 private:
  WorkerPool() = default;

  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<std::thread> threads_;
  std::vector<absl::Status> results_;
};

}  // namespace weft::event
