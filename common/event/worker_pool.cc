#include "common/event/worker_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/event/listen_socket.h"
#include "common/log/logger.h"

namespace weft::event {

absl::StatusOr<std::unique_ptr<WorkerPool>> WorkerPool::Create(const WorkerPoolOptions& options) {
  size_t workers = options.workers;
  if (workers == 0) workers = std::max<size_t>(1, std::thread::hardware_concurrency());
  std::unique_ptr<WorkerPool> pool(new WorkerPool());
  for (size_t i = 0; i < workers; ++i) {
    EventLoopOptions loop_options = options.loop;
    loop_options.name = absl::StrCat(options.loop.name, "-", i);
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(loop_options);
    if (!loop.ok()) return loop.status();
    pool->loops_.push_back(std::move(*loop));
  }
  pool->results_.resize(workers);
  return pool;
}

WorkerPool::~WorkerPool() {
  Stop();
  Join();
}

absl::StatusOr<SocketAddress> WorkerPool::Listen(const SocketAddress& address,
                                                 const AcceptCallbackFactory& make_accept) {
  SocketAddress bind_to = address;
  std::vector<ScopedFd> fds;
  for (size_t i = 0; i < loops_.size(); ++i) {
    absl::StatusOr<ScopedFd> fd = OpenListenSocket(bind_to, ListenOptions{.reuse_port = true});
    if (!fd.ok()) {
      return absl::Status(fd.status().code(),
                          absl::StrCat("worker ", i, " listener: ", fd.status().message()));
    }
    if (i == 0) {
      // Port 0: the others must join the port the kernel picked for the first.
      absl::StatusOr<SocketAddress> bound = SocketAddress::LocalOf(fd->get());
      if (!bound.ok()) return bound.status();
      bind_to = *bound;
    }
    fds.push_back(std::move(*fd));
  }
  // Sockets are all open before any worker accepts, so a failure above leaves nothing behind.
  for (size_t i = 0; i < loops_.size(); ++i) {
    auto fd = std::make_shared<ScopedFd>(std::move(fds[i]));
    EventLoop* loop = loops_[i].get();
    EventLoop::AcceptCallback on_accept = make_accept(i);
    loop->Post([loop, fd, on_accept = std::move(on_accept)]() mutable {
      absl::StatusOr<ListenerId> id = loop->AddListener(std::move(*fd), std::move(on_accept));
      if (!id.ok()) {
        weft::log::Error("worker could not add its listener",
                         {{"loop", loop->name()}, {"error", id.status()}});
      }
    });
  }
  return bind_to;
}

void WorkerPool::Start() {
  if (!threads_.empty()) return;
  for (size_t i = 0; i < loops_.size(); ++i) {
    threads_.emplace_back([this, i] {
      results_[i] = loops_[i]->Run();
      if (!results_[i].ok()) {
        weft::log::Error("worker loop exited with an error",
                         {{"loop", loops_[i]->name()}, {"error", results_[i]}});
      }
    });
  }
}

void WorkerPool::Stop() {
  for (auto& loop : loops_) loop->Stop();
}

void WorkerPool::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace weft::event
