// WorkerPool: SO_REUSEPORT listeners, one per worker; connections are spread across workers
// and each is served entirely by the worker that accepted it.
#include "common/event/worker_pool.h"

#include <atomic>
#include <vector>

#include "tests/unit/event/event_test_support.h"

namespace weft::event {
namespace {

TEST(WorkerPoolTest, SpreadsConnectionsAcrossWorkersAndEchoes) {
  absl::StatusOr<std::unique_ptr<WorkerPool>> pool =
      WorkerPool::Create({.workers = 2, .loop = {.name = "pool"}});
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::vector<std::atomic<int>> accepted(2);
  std::atomic<int> wrong_thread{0};
  absl::StatusOr<SocketAddress> bound = (*pool)->Listen(
      *SocketAddress::Parse("127.0.0.1:0"), [&](size_t worker) -> EventLoop::AcceptCallback {
        EventLoop* loop = &(*pool)->loop(worker);
        return [&, worker, loop](ConnectionId) {
          if (!loop->InLoopThread()) wrong_thread.fetch_add(1);
          accepted[worker].fetch_add(1);
          return std::make_unique<testing::EchoHandler>();
        };
      });
  ASSERT_TRUE(bound.ok()) << bound.status();
  ASSERT_NE(bound->port(), 0);
  (*pool)->Start();

  // Different source ports hash to different listeners; 64 all landing on one worker has
  // probability 2^-63.
  std::vector<ScopedFd> clients;
  for (int i = 0; i < 64; ++i) {
    clients.push_back(testing::ConnectBlocking(bound->port()));
    ASSERT_TRUE(clients.back().valid());
    const std::string msg = "message " + std::to_string(i);
    ASSERT_TRUE(testing::WriteAll(clients.back().get(), msg));
    EXPECT_EQ(testing::ReadExactly(clients.back().get(), msg.size()), msg);
  }
  EXPECT_EQ(accepted[0].load() + accepted[1].load(), 64);
  EXPECT_GT(accepted[0].load(), 0);
  EXPECT_GT(accepted[1].load(), 0);
  EXPECT_EQ(wrong_thread.load(), 0);

  (*pool)->Stop();
  (*pool)->Join();
  EXPECT_TRUE((*pool)->worker_status(0).ok());
  EXPECT_TRUE((*pool)->worker_status(1).ok());
}

}  // namespace
}  // namespace weft::event
