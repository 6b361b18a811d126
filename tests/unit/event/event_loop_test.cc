// Feature probe, cross-thread Post/Stop, timers, outbound connects (success, refusal,
// timeout) and idle timeouts of the EventLoop.
#include "common/event/event_loop.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <vector>

#include "common/event/listen_socket.h"
#include "common/event/user_data.h"
#include "tests/unit/event/event_test_support.h"

namespace weft::event {
namespace {

using std::chrono::milliseconds;
using testing::LoopThread;

std::unique_ptr<EventLoop> MakeLoop() {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create({.name = "test"});
  EXPECT_TRUE(loop.ok()) << loop.status();
  return loop.ok() ? std::move(*loop) : nullptr;
}

// --- Feature probe ----------------------------------------------------------------------

TEST(FeatureProbeTest, ThisKernelHasEverythingTheLoopNeeds) {
  io_uring ring;
  io_uring_params params{};
  ASSERT_EQ(io_uring_queue_init_params(8, &ring, &params), 0);
  absl::StatusOr<RingCapabilities> caps = FeatureProbe::Probe(&ring, params.features);
  io_uring_queue_exit(&ring);
  ASSERT_TRUE(caps.ok()) << caps.status();
  EXPECT_TRUE(FeatureProbe::CheckRequired(*caps).ok()) << FeatureProbe::CheckRequired(*caps);
}

TEST(FeatureProbeTest, MissingFeatureIsNamedInTheError) {
  io_uring ring;
  io_uring_params params{};
  ASSERT_EQ(io_uring_queue_init_params(8, &ring, &params), 0);
  absl::StatusOr<RingCapabilities> caps = FeatureProbe::Probe(&ring, params.features);
  io_uring_queue_exit(&ring);
  ASSERT_TRUE(caps.ok());

  RingCapabilities no_nodrop = *caps;
  no_nodrop.features &= ~IORING_FEAT_NODROP;
  absl::Status s = FeatureProbe::CheckRequired(no_nodrop);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("IORING_FEAT_NODROP"), absl::string_view::npos) << s;

  RingCapabilities no_multishot_recv = *caps;
  no_multishot_recv.supported_opcodes.reset(IORING_OP_SEND_ZC);
  s = FeatureProbe::CheckRequired(no_multishot_recv);
  EXPECT_NE(s.message().find("multishot recv"), absl::string_view::npos) << s;

  RingCapabilities no_link_timeout = *caps;
  no_link_timeout.supported_opcodes.reset(IORING_OP_LINK_TIMEOUT);
  s = FeatureProbe::CheckRequired(no_link_timeout);
  EXPECT_NE(s.message().find("linked timeouts"), absl::string_view::npos) << s;
}

TEST(UserDataTest, RoundTripsAndWrapsGenerations) {
  UserData ud{OpKind::kSend, 0x00abcdef, 123456};
  UserData back = UserData::Decode(ud.Encode());
  EXPECT_EQ(back.kind, OpKind::kSend);
  EXPECT_EQ(back.generation, 0x00abcdefu);
  EXPECT_EQ(back.slot, 123456u);
  EXPECT_EQ(UserData::NextGeneration(UserData::kGenerationMask), 0u);
}

// --- Cross-thread -----------------------------------------------------------------------

TEST(EventLoopTest, PostFromOtherThreadsRunsOnLoopThreadInOrder) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  ASSERT_NE(loop, nullptr);
  std::thread::id loop_thread_id;
  loop->Post([&] { loop_thread_id = std::this_thread::get_id(); });
  LoopThread runner(*loop);

  constexpr int kPerThread = 2000;
  std::vector<int> seen_a, seen_b;  // touched only on the loop thread
  std::atomic<int> wrong_thread{0};
  auto poster = [&](std::vector<int>* seen) {
    for (int i = 0; i < kPerThread; ++i) {
      loop->Post([&, seen, i] {
        if (!loop->InLoopThread()) wrong_thread.fetch_add(1);
        seen->push_back(i);
      });
    }
  };
  std::thread a(poster, &seen_a), b(poster, &seen_b);
  a.join();
  b.join();
  runner.RunOnLoop([] {});  // a barrier: everything posted before it has run
  EXPECT_EQ(wrong_thread.load(), 0);
  ASSERT_EQ(seen_a.size(), static_cast<size_t>(kPerThread));
  ASSERT_EQ(seen_b.size(), static_cast<size_t>(kPerThread));
  for (int i = 0; i < kPerThread; ++i) {
    ASSERT_EQ(seen_a[i], i);
    ASSERT_EQ(seen_b[i], i);
  }
  EXPECT_NE(loop_thread_id, std::this_thread::get_id());
  EXPECT_GE(EventLoopStats::Get(loop->stats().tasks_run), 2u * kPerThread);
}

TEST(EventLoopTest, StopFromAnotherThreadEndsRunPromptly) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  ASSERT_NE(loop, nullptr);
  std::promise<absl::Status> result;
  std::thread runner([&] { result.set_value(loop->Run()); });
  std::this_thread::sleep_for(milliseconds(50));
  const auto start = std::chrono::steady_clock::now();
  std::thread([&] { loop->Stop(); }).join();
  std::future<absl::Status> f = result.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_TRUE(f.get().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(500));
  runner.join();
}

// --- Timers -----------------------------------------------------------------------------

TEST(EventLoopTest, TimersFireRoughlyOnTimeAndCancelledOnesDoNot) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  ASSERT_NE(loop, nullptr);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::pair<int, std::chrono::steady_clock::duration>> fired;
  loop->AddTimer(milliseconds(120),
                 [&] { fired.emplace_back(120, std::chrono::steady_clock::now() - start); });
  loop->AddTimer(milliseconds(40),
                 [&] { fired.emplace_back(40, std::chrono::steady_clock::now() - start); });
  TimerId cancelled = loop->AddTimer(
      milliseconds(80), [&] { fired.emplace_back(80, std::chrono::steady_clock::duration{}); });
  EXPECT_TRUE(loop->CancelTimer(cancelled));
  EXPECT_FALSE(loop->CancelTimer(cancelled));  // already cancelled
  // A timer cancelled from inside another timer's callback, shortly before its own expiry.
  TimerId late = loop->AddTimer(
      milliseconds(200), [&] { fired.emplace_back(200, std::chrono::steady_clock::duration{}); });
  loop->AddTimer(milliseconds(190), [&] { EXPECT_TRUE(loop->CancelTimer(late)); });
  loop->AddTimer(milliseconds(300), [&] { loop->Stop(); });
  ASSERT_TRUE(loop->Run().ok());

  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].first, 40);
  EXPECT_EQ(fired[1].first, 120);
  EXPECT_GE(fired[0].second, milliseconds(40));
  EXPECT_LT(fired[0].second, milliseconds(40 + 300));
  EXPECT_GE(fired[1].second, milliseconds(120));
  EXPECT_LT(fired[1].second, milliseconds(120 + 300));
  EXPECT_EQ(EventLoopStats::Get(loop->stats().timers_fired), 4u);  // 40, 120, 190, 300
}

// --- Outbound connects ------------------------------------------------------------------

// Records what the loop tells an outbound connection's handler.
class RecordingHandler : public ConnectionHandler {
 public:
  struct Record {
    std::mutex mu;
    bool connected = false;
    std::string data;
    std::optional<absl::Status> closed;
    std::chrono::steady_clock::time_point closed_at;
  };
  explicit RecordingHandler(std::shared_ptr<Record> r, std::string greeting = "")
      : r_(std::move(r)), greeting_(std::move(greeting)) {}
  void OnConnected(EventLoop& loop, ConnectionId id) override {
    std::lock_guard<std::mutex> l(r_->mu);
    r_->connected = true;
    if (!greeting_.empty()) {
      EXPECT_TRUE(loop.Send(id, greeting_).ok());
    }
  }
  void OnData(EventLoop&, ConnectionId, std::string_view data) override {
    std::lock_guard<std::mutex> l(r_->mu);
    r_->data.append(data);
  }
  void OnClosed(EventLoop&, ConnectionId, const absl::Status& reason) override {
    std::lock_guard<std::mutex> l(r_->mu);
    r_->closed = reason;
    r_->closed_at = std::chrono::steady_clock::now();
  }

 private:
  std::shared_ptr<Record> r_;
  std::string greeting_;
};

SocketAddress LoopbackAddress(uint16_t port) {
  absl::StatusOr<SocketAddress> a = SocketAddress::Parse("127.0.0.1:" + std::to_string(port));
  EXPECT_TRUE(a.ok());
  return *a;
}

TEST(EventLoopTest, ConnectDeliversBothDirections) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  ASSERT_NE(loop, nullptr);
  absl::StatusOr<ScopedFd> listener = OpenListenSocket(LoopbackAddress(0));
  ASSERT_TRUE(listener.ok());
  const uint16_t port = SocketAddress::LocalOf(listener->get())->port();
  auto record = std::make_shared<RecordingHandler::Record>();
  ASSERT_TRUE(loop->Connect(LoopbackAddress(port), milliseconds(2000),
                            std::make_unique<RecordingHandler>(record, "ping"))
                  .ok());
  LoopThread runner(*loop);

  ScopedFd peer(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(peer.valid());
  timeval tv{5, 0};
  ::setsockopt(peer.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  EXPECT_EQ(testing::ReadExactly(peer.get(), 4), "ping");
  ASSERT_TRUE(testing::WriteAll(peer.get(), "pong"));
  peer.Reset();  // orderly close: the loop sees EOF and closes with OK
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::lock_guard<std::mutex> l(record->mu);
        return record->closed.has_value();
      },
      milliseconds(5000)));
  std::lock_guard<std::mutex> l(record->mu);
  EXPECT_TRUE(record->connected);
  EXPECT_EQ(record->data, "pong");
  EXPECT_TRUE(record->closed->ok()) << *record->closed;
}

TEST(EventLoopTest, ConnectRefusedReportsUnavailable) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  ASSERT_NE(loop, nullptr);
  uint16_t port;
  {
    // Bound then closed: nothing listens on that port any more.
    absl::StatusOr<ScopedFd> s = OpenListenSocket(LoopbackAddress(0));
    ASSERT_TRUE(s.ok());
    port = SocketAddress::LocalOf(s->get())->port();
  }
  auto record = std::make_shared<RecordingHandler::Record>();
  ASSERT_TRUE(loop->Connect(LoopbackAddress(port), milliseconds(2000),
                            std::make_unique<RecordingHandler>(record))
                  .ok());
  LoopThread runner(*loop);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::lock_guard<std::mutex> l(record->mu);
        return record->closed.has_value();
      },
      milliseconds(3000)));
  std::lock_guard<std::mutex> l(record->mu);
  EXPECT_FALSE(record->connected);
  EXPECT_EQ(record->closed->code(), absl::StatusCode::kUnavailable) << *record->closed;
  EXPECT_NE(record->closed->message().find("refused"), absl::string_view::npos);
  EXPECT_EQ(EventLoopStats::Get(loop->stats().connect_failures), 1u);
}

TEST(EventLoopTest, ConnectTimeoutFiresAgainstAFullBacklog) {
  // A listener with backlog 0 that never accepts holds one connection in its accept queue;
  // from then on the kernel drops new SYNs, so a connect to it hangs until our timeout.
  absl::StatusOr<ScopedFd> listener = OpenListenSocket(LoopbackAddress(0), {.backlog = 0});
  ASSERT_TRUE(listener.ok());
  const uint16_t port = SocketAddress::LocalOf(listener->get())->port();
  std::vector<ScopedFd> fillers;
  bool full = false;
  for (int i = 0; i < 16 && !full; ++i) {
    fillers.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in addr = testing::Loopback(port);
    ::connect(fillers.back().get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    pollfd p{fillers.back().get(), POLLOUT, 0};
    full = ::poll(&p, 1, 300) == 0;  // this one's SYN was dropped: the queue is full
  }
  ASSERT_TRUE(full) << "could not fill the accept queue of a backlog-0 listener";

  std::unique_ptr<EventLoop> loop = MakeLoop();
  ASSERT_NE(loop, nullptr);
  auto record = std::make_shared<RecordingHandler::Record>();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(loop->Connect(LoopbackAddress(port), milliseconds(250),
                            std::make_unique<RecordingHandler>(record))
                  .ok());
  LoopThread runner(*loop);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::lock_guard<std::mutex> l(record->mu);
        return record->closed.has_value();
      },
      milliseconds(3000)));
  std::lock_guard<std::mutex> l(record->mu);
  EXPECT_FALSE(record->connected);
  EXPECT_EQ(record->closed->code(), absl::StatusCode::kDeadlineExceeded) << *record->closed;
  EXPECT_GE(record->closed_at - start, milliseconds(240));
  EXPECT_LT(record->closed_at - start, milliseconds(1500));
  EXPECT_EQ(EventLoopStats::Get(loop->stats().connect_timeouts), 1u);
  EXPECT_EQ(loop->connection_count(), 0u);
}

// --- Idle timeout -----------------------------------------------------------------------

TEST(EventLoopTest, IdleConnectionIsClosedActiveOneIsNot) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  ASSERT_NE(loop, nullptr);
  absl::StatusOr<ScopedFd> listener = OpenListenSocket(LoopbackAddress(0));
  ASSERT_TRUE(listener.ok());
  const uint16_t port = SocketAddress::LocalOf(listener->get())->port();
  std::mutex mu;
  std::vector<absl::Status> reasons;
  class Handler : public testing::EchoHandler {
   public:
    Handler(std::mutex* mu, std::vector<absl::Status>* reasons) : mu_(mu), reasons_(reasons) {}
    void OnClosed(EventLoop&, ConnectionId, const absl::Status& reason) override {
      std::lock_guard<std::mutex> l(*mu_);
      reasons_->push_back(reason);
    }

   private:
    std::mutex* mu_;
    std::vector<absl::Status>* reasons_;
  };
  EventLoop* raw = loop.get();
  ASSERT_TRUE(loop->AddListener(std::move(*listener),
                                [&, raw](ConnectionId id) {
                                  EXPECT_TRUE(raw->SetIdleTimeout(id, milliseconds(200)).ok());
                                  return std::make_unique<Handler>(&mu, &reasons);
                                })
                  .ok());
  LoopThread runner(*loop);

  ScopedFd idle = testing::ConnectBlocking(port);
  ScopedFd busy = testing::ConnectBlocking(port);
  ASSERT_TRUE(idle.valid() && busy.valid());
  const auto start = std::chrono::steady_clock::now();
  // The busy client talks every 50 ms for 600 ms: three idle periods' worth of time.
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(testing::WriteAll(busy.get(), "x"));
    ASSERT_EQ(testing::ReadExactly(busy.get(), 1), "x") << "busy connection closed at round " << i;
    std::this_thread::sleep_for(milliseconds(50));
  }
  char c;
  EXPECT_EQ(::recv(idle.get(), &c, 1, 0), 0) << "idle connection should have seen EOF";
  const auto idle_closed_after = std::chrono::steady_clock::now() - start;
  EXPECT_LT(idle_closed_after, milliseconds(2000));
  std::lock_guard<std::mutex> l(mu);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0].code(), absl::StatusCode::kDeadlineExceeded) << reasons[0];
  EXPECT_EQ(EventLoopStats::Get(loop->stats().idle_timeouts), 1u);
}

}  // namespace
}  // namespace weft::event
