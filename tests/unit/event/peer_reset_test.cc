// A peer that resets its connection (SO_LINGER {1, 0} + close) takes down that connection
// only: the handler hears why, and the other connections on the same loop keep echoing.
#include <mutex>
#include <vector>

#include "common/event/listen_socket.h"
#include "tests/unit/event/event_test_support.h"

namespace weft::event {
namespace {

using std::chrono::milliseconds;

struct Closures {
  std::mutex mu;
  std::vector<absl::Status> reasons;
  size_t count() {
    std::lock_guard<std::mutex> l(mu);
    return reasons.size();
  }
};

class RecordingEcho : public testing::EchoHandler {
 public:
  explicit RecordingEcho(Closures* closures) : closures_(closures) {}
  void OnClosed(EventLoop&, ConnectionId, const absl::Status& reason) override {
    std::lock_guard<std::mutex> l(closures_->mu);
    closures_->reasons.push_back(reason);
  }

 private:
  Closures* closures_;
};

void ResetConnection(ScopedFd& fd) {
  linger lin{1, 0};  // close() sends RST instead of FIN
  ASSERT_EQ(::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lin, sizeof(lin)), 0);
  fd.Reset();
}

class PeerResetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create({.name = "reset"});
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
    absl::StatusOr<ScopedFd> listener = OpenListenSocket(*SocketAddress::Parse("127.0.0.1:0"));
    ASSERT_TRUE(listener.ok());
    port_ = SocketAddress::LocalOf(listener->get())->port();
    ASSERT_TRUE(loop_
                    ->AddListener(std::move(*listener),
                                  [this](ConnectionId) {
                                    return std::make_unique<RecordingEcho>(&closures_);
                                  })
                    .ok());
    runner_ = std::make_unique<testing::LoopThread>(*loop_);
  }
  void TearDown() override { runner_.reset(); }

  void ExpectEchoes(int fd, const std::string& message) {
    ASSERT_TRUE(testing::WriteAll(fd, message));
    EXPECT_EQ(testing::ReadExactly(fd, message.size()), message);
  }

  Closures closures_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<testing::LoopThread> runner_;
  uint16_t port_ = 0;
};

TEST_F(PeerResetTest, ResetClosesOnlyThatConnectionAndReportsWhy) {
  constexpr int kClients = 10;
  std::vector<ScopedFd> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(testing::ConnectBlocking(port_));
    ASSERT_TRUE(clients.back().valid());
    ExpectEchoes(clients.back().get(), "hello " + std::to_string(i));
  }

  ResetConnection(clients[3]);
  ASSERT_TRUE(testing::WaitFor([&] { return closures_.count() == 1; }, milliseconds(3000)));
  {
    std::lock_guard<std::mutex> l(closures_.mu);
    EXPECT_EQ(closures_.reasons[0].code(), absl::StatusCode::kUnavailable) << closures_.reasons[0];
    EXPECT_NE(closures_.reasons[0].message().find("reset"), absl::string_view::npos)
        << closures_.reasons[0];
  }
  for (int i = 0; i < kClients; ++i) {
    if (i == 3) continue;
    ExpectEchoes(clients[i].get(), "still here " + std::to_string(i));
  }
  EXPECT_EQ(closures_.count(), 1u);
  EXPECT_EQ(EventLoopStats::Get(loop_->stats().peer_resets), 1u);
  // A new connection is served too.
  ScopedFd late = testing::ConnectBlocking(port_);
  ASSERT_TRUE(late.valid());
  ExpectEchoes(late.get(), "late");
}

TEST_F(PeerResetTest, ResetWhileTheServerIsStillSendingClosesOnlyThatConnection) {
  ScopedFd bystander = testing::ConnectBlocking(port_);
  ScopedFd victim = testing::ConnectBlocking(port_);
  ASSERT_TRUE(bystander.valid() && victim.valid());
  // 4 MiB that the victim never reads: the echo backs up in the server's send queue, so the
  // reset hits an in-flight send as well as the armed recv.
  const std::string chunk(64 * 1024, 'v');
  for (int i = 0; i < 64; ++i) {
    if (!testing::WriteAll(victim.get(), chunk)) break;  // our own send buffer filled: fine
  }
  ResetConnection(victim);
  ASSERT_TRUE(testing::WaitFor([&] { return closures_.count() == 1; }, milliseconds(3000)));
  {
    std::lock_guard<std::mutex> l(closures_.mu);
    EXPECT_EQ(closures_.reasons[0].code(), absl::StatusCode::kUnavailable) << closures_.reasons[0];
  }
  ExpectEchoes(bystander.get(), "unaffected");
  EXPECT_EQ(closures_.count(), 1u);
  EXPECT_EQ(loop_->connection_count(), 1u);
}

}  // namespace
}  // namespace weft::event
