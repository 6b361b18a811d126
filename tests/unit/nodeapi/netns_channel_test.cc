// NetnsChannelServer and NetnsChannelClient over a real unix socket path: hand-off with fds,
// acks, resync after either side reconnects, connection replacement, malformed input, leaks.
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/nodeapi/netns_channel_client.h"
#include "common/nodeapi/netns_channel_server.h"
#include "common/nodeapi/unix_seqpacket_socket.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/nodeapi/fd_test_support.h"

namespace weft::nodeapi {
namespace {

using testing::CountOpenFds;
using ::testing::HasSubstr;
using testing::InodeOf;
using testing::OpenOwnNetns;

constexpr auto kWait = std::chrono::seconds(10);

// A list that tests wait on until it holds enough entries.
template <typename T>
class Log {
 public:
  void Push(T item) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(item));
    cv_.notify_all();
  }
  bool WaitForSize(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return items_.size() >= n; });
  }
  std::vector<T> Snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    return items_;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

struct Seen {
  PodNetnsMessage message;
  ino_t netns_inode = 0;
};

// A ztunnel-side client serving on its own thread, recording what it was handed.
class ClientRunner {
 public:
  using Decide = std::function<std::string(const PodNetnsMessage&)>;

  explicit ClientRunner(std::string path, Decide decide = nullptr)
      : path_(std::move(path)), decide_(std::move(decide)) {}
  ~ClientRunner() { Stop(); }

  absl::Status Start(absl::Duration max_wait = absl::Seconds(5)) {
    NetnsChannelClient::ConnectOptions options;
    options.max_wait = max_wait;
    auto client = NetnsChannelClient::Connect(
        path_,
        [this](const PodNetnsMessage& m, event::ScopedFd fd) {
          seen.Push(Seen{m, fd.valid() ? InodeOf(fd.get()) : 0});
          return NetnsChannelClient::Outcome{decide_ ? decide_(m) : std::string(), {}};
        },
        options);
    if (!client.ok()) return client.status();
    client_ = *std::move(client);
    thread_ = std::thread([this] { exit.Push(client_->Serve()); });
    return absl::OkStatus();
  }
  void Stop() {
    if (client_ != nullptr) client_->Shutdown();
    if (thread_.joinable()) thread_.join();
  }

  Log<Seen> seen;
  Log<absl::Status> exit;

 private:
  std::string path_;
  Decide decide_;
  std::unique_ptr<NetnsChannelClient> client_;
  std::thread thread_;
};

class NetnsChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/weft-netns-chan-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/netns.sock";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<NetnsChannelServer> MakeServer() {
    auto server = NetnsChannelServer::Create(
        {.socket_path = path_, .on_ack = [this](const NetnsAckEvent& e) { acks_.Push(e); }});
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  std::string dir_;
  std::string path_;
  Log<NetnsAckEvent> acks_;
};

TEST_F(NetnsChannelTest, AddHandsOverTheNetnsFdAndTheAckReachesTheServer) {
  auto server = MakeServer();
  ClientRunner client(path_);
  ASSERT_TRUE(client.Start().ok());
  ASSERT_TRUE(client.seen.WaitForSize(1));  // SNAPSHOT_DONE of the empty initial resync
  EXPECT_EQ(client.seen.Snapshot()[0].message.kind(), PodNetnsMessage::SNAPSHOT_DONE);

  event::ScopedFd netns = OpenOwnNetns();
  const ino_t inode = InodeOf(netns.get());
  ASSERT_TRUE(server->Add("pod-a", {"10.0.0.1"}, std::move(netns)).ok());
  ASSERT_TRUE(client.seen.WaitForSize(2));
  Seen add = client.seen.Snapshot()[1];
  EXPECT_EQ(add.message.kind(), PodNetnsMessage::ADD);
  EXPECT_EQ(add.message.workload_uid(), "pod-a");
  EXPECT_THAT(add.message.addresses(), ::testing::ElementsAre("10.0.0.1"));
  EXPECT_EQ(add.netns_inode, inode);

  ASSERT_TRUE(acks_.WaitForSize(2));
  NetnsAckEvent ack = acks_.Snapshot()[1];
  EXPECT_EQ(ack.workload_uid, "pod-a");
  EXPECT_EQ(ack.kind, PodNetnsMessage::ADD);
  EXPECT_EQ(ack.sequence, add.message.sequence());
  EXPECT_EQ(ack.error, "");
}

TEST_F(NetnsChannelTest, RemoveIsDeliveredWithoutFdAndAcked) {
  auto server = MakeServer();
  ASSERT_TRUE(server->Add("pod-a", {}, OpenOwnNetns()).ok());
  ClientRunner client(path_);
  ASSERT_TRUE(client.Start().ok());
  ASSERT_TRUE(client.seen.WaitForSize(2));  // ADD pod-a, SNAPSHOT_DONE
  server->Remove("pod-a");
  ASSERT_TRUE(client.seen.WaitForSize(3));
  Seen remove = client.seen.Snapshot()[2];
  EXPECT_EQ(remove.message.kind(), PodNetnsMessage::REMOVE);
  EXPECT_EQ(remove.message.workload_uid(), "pod-a");
  EXPECT_EQ(remove.netns_inode, 0u);
  ASSERT_TRUE(acks_.WaitForSize(3));
  NetnsAckEvent ack = acks_.Snapshot()[2];
  EXPECT_EQ(ack.kind, PodNetnsMessage::REMOVE);
  EXPECT_EQ(ack.workload_uid, "pod-a");
  EXPECT_EQ(ack.sequence, remove.message.sequence());
}

TEST_F(NetnsChannelTest, HandlerErrorReachesTheServerCallback) {
  auto server = MakeServer();
  ClientRunner client(path_, [](const PodNetnsMessage& m) {
    return m.workload_uid() == "pod-bad" ? std::string("bind 10.0.0.9:15008: in use") : "";
  });
  ASSERT_TRUE(client.Start().ok());
  ASSERT_TRUE(acks_.WaitForSize(1));  // the initial SNAPSHOT_DONE: the connection is accepted
  ASSERT_TRUE(server->Add("pod-bad", {"10.0.0.9"}, OpenOwnNetns()).ok());
  ASSERT_TRUE(server->Add("pod-good", {"10.0.0.10"}, OpenOwnNetns()).ok());
  ASSERT_TRUE(acks_.WaitForSize(3));
  std::vector<NetnsAckEvent> acks = acks_.Snapshot();
  EXPECT_EQ(acks[1].workload_uid, "pod-bad");
  EXPECT_EQ(acks[1].error, "bind 10.0.0.9:15008: in use");
  EXPECT_EQ(acks[2].workload_uid, "pod-good");
  EXPECT_EQ(acks[2].error, "");
  EXPECT_LT(acks[1].sequence, acks[2].sequence);
}

TEST_F(NetnsChannelTest, ServerRefusesAddWithoutANetnsFd) {
  auto server = MakeServer();
  absl::Status no_fd = server->Add("pod-a", {}, event::ScopedFd());
  EXPECT_TRUE(absl::IsInvalidArgument(no_fd)) << no_fd;
  EXPECT_THAT(std::string(no_fd.message()), HasSubstr("pod-a"));
  EXPECT_TRUE(absl::IsInvalidArgument(server->Add("", {}, OpenOwnNetns())));
}

// Design: a bad packet does not close the connection (SEQPACKET keeps framing intact). A packet
// that parsed gets an error ack so the agent is not left waiting; garbage is dropped.
TEST_F(NetnsChannelTest, ClientRejectsMalformedPacketsAndKeepsServing) {
  absl::StatusOr<event::ScopedFd> listener = ListenUnixSeqPacket(path_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  ClientRunner client(path_);
  ASSERT_TRUE(client.Start().ok());
  event::ScopedFd agent(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(agent.valid());

  ASSERT_TRUE(SendSeqPacket(agent.get(), "\xff\xff\xff\xff garbage", -1, 0).ok());
  PodNetnsMessage add_without_fd;
  add_without_fd.set_sequence(5);
  add_without_fd.set_kind(PodNetnsMessage::ADD);
  add_without_fd.set_workload_uid("pod-a");
  ASSERT_TRUE(SendSeqPacket(agent.get(), add_without_fd.SerializeAsString(), -1, 0).ok());
  PodNetnsMessage remove;
  remove.set_sequence(6);
  remove.set_kind(PodNetnsMessage::REMOVE);
  remove.set_workload_uid("pod-b");
  ASSERT_TRUE(SendNetnsMessage(agent.get(), remove, -1, 0).ok());

  absl::StatusOr<SeqPacket> packet = ReceiveSeqPacket(agent.get(), 0);
  ASSERT_TRUE(packet.ok()) << packet.status();
  absl::StatusOr<ReceivedNetnsAck> nack = DecodeNetnsAck(*std::move(packet));
  ASSERT_TRUE(nack.ok());
  EXPECT_EQ(nack->ack.sequence(), 5u);
  EXPECT_THAT(nack->ack.error(), HasSubstr("ADD must carry exactly one netns fd"));
  packet = ReceiveSeqPacket(agent.get(), 0);
  ASSERT_TRUE(packet.ok()) << packet.status();
  absl::StatusOr<ReceivedNetnsAck> ack = DecodeNetnsAck(*std::move(packet));
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->ack.sequence(), 6u);
  EXPECT_EQ(ack->ack.error(), "");

  ASSERT_TRUE(client.seen.WaitForSize(1));
  std::vector<Seen> seen = client.seen.Snapshot();
  ASSERT_EQ(seen.size(), 1u);  // the handler never sees a rejected packet
  EXPECT_EQ(seen[0].message.workload_uid(), "pod-b");
  EXPECT_EQ(client.exit.size(), 0u);  // still serving
}

TEST_F(NetnsChannelTest, ClientReconnectAfterServerRestartGetsFullResync) {
  auto server = MakeServer();
  ASSERT_TRUE(server->Add("pod-a", {}, OpenOwnNetns()).ok());
  ClientRunner first(path_);
  ASSERT_TRUE(first.Start().ok());
  ASSERT_TRUE(first.seen.WaitForSize(2));
  server.reset();  // agent restart
  ASSERT_TRUE(first.exit.WaitForSize(1));
  EXPECT_TRUE(absl::IsUnavailable(first.exit.Snapshot()[0])) << first.exit.Snapshot()[0];

  // The old agent died without cleaning up: a stale socket file is left behind.
  {
    event::ScopedFd stale(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    ASSERT_EQ(::bind(stale.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  // ztunnel starts retrying before the new agent is up.
  ClientRunner second(path_);
  absl::Status connected;
  std::thread connecting([&] { connected = second.Start(absl::Seconds(10)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server = MakeServer();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Add("pod-a", {}, OpenOwnNetns()).ok());
  ASSERT_TRUE(server->Add("pod-b", {}, OpenOwnNetns()).ok());
  connecting.join();
  ASSERT_TRUE(connected.ok()) << connected;

  // Whatever the timing of the Adds against the connect, ztunnel ends up with both pods and
  // the snapshot ends after every pod added before the connection.
  ASSERT_TRUE(second.seen.WaitForSize(3));
  std::vector<Seen> seen = second.seen.Snapshot();
  std::set<std::string> added;
  bool done = false;
  for (const Seen& s : seen) {
    if (s.message.kind() == PodNetnsMessage::ADD) added.insert(s.message.workload_uid());
    if (s.message.kind() == PodNetnsMessage::SNAPSHOT_DONE) done = true;
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(added, (std::set<std::string>{"pod-a", "pod-b"}));
  EXPECT_EQ(server->connections_accepted(), 1u);
}

TEST_F(NetnsChannelTest, ReconnectResyncIsAddsThenSnapshotDone) {
  auto server = MakeServer();
  ASSERT_TRUE(server->Add("pod-a", {"10.0.0.1"}, OpenOwnNetns()).ok());
  ASSERT_TRUE(server->Add("pod-b", {"10.0.0.2"}, OpenOwnNetns()).ok());
  for (int round = 0; round < 2; ++round) {
    ClientRunner client(path_);
    ASSERT_TRUE(client.Start().ok());
    ASSERT_TRUE(client.seen.WaitForSize(3));
    std::vector<Seen> seen = client.seen.Snapshot();
    EXPECT_EQ(seen[0].message.kind(), PodNetnsMessage::ADD);
    EXPECT_EQ(seen[0].message.workload_uid(), "pod-a");
    EXPECT_NE(seen[0].netns_inode, 0u);
    EXPECT_EQ(seen[1].message.kind(), PodNetnsMessage::ADD);
    EXPECT_EQ(seen[1].message.workload_uid(), "pod-b");
    EXPECT_EQ(seen[2].message.kind(), PodNetnsMessage::SNAPSHOT_DONE);
    client.Stop();  // ztunnel restart
  }
}

TEST_F(NetnsChannelTest, NewConnectionReplacesTheOldOne) {
  auto server = MakeServer();
  ASSERT_TRUE(server->Add("pod-a", {}, OpenOwnNetns()).ok());
  ClientRunner old_client(path_);
  ASSERT_TRUE(old_client.Start().ok());
  ASSERT_TRUE(old_client.seen.WaitForSize(2));
  ClientRunner new_client(path_);
  ASSERT_TRUE(new_client.Start().ok());
  ASSERT_TRUE(new_client.seen.WaitForSize(2));
  ASSERT_TRUE(old_client.exit.WaitForSize(1));
  // Told it was superseded (not a plain disconnect), so it does not reconnect and take the
  // pods back; the message itself never reaches the pod handler.
  EXPECT_TRUE(absl::IsAborted(old_client.exit.Snapshot()[0])) << old_client.exit.Snapshot()[0];
  EXPECT_EQ(new_client.seen.Snapshot()[0].message.workload_uid(), "pod-a");
  EXPECT_EQ(new_client.seen.Snapshot()[1].message.kind(), PodNetnsMessage::SNAPSHOT_DONE);

  ASSERT_TRUE(server->Add("pod-b", {}, OpenOwnNetns()).ok());
  ASSERT_TRUE(new_client.seen.WaitForSize(3));
  EXPECT_EQ(new_client.seen.Snapshot()[2].message.workload_uid(), "pod-b");
  EXPECT_EQ(old_client.seen.size(), 2u);
  EXPECT_EQ(server->connections_accepted(), 2u);
}

TEST_F(NetnsChannelTest, UnackedMessagesAreResentOnReconnect) {
  auto server = MakeServer();
  ASSERT_TRUE(server->Add("pod-a", {}, OpenOwnNetns()).ok());
  {
    // A ztunnel that reads but dies before acking anything.
    absl::StatusOr<event::ScopedFd> raw = ConnectUnixSeqPacket(path_);
    ASSERT_TRUE(raw.ok()) << raw.status();
    ASSERT_TRUE(ReceiveNetnsMessage(raw->get(), 0).ok());  // ADD pod-a
    ASSERT_TRUE(ReceiveNetnsMessage(raw->get(), 0).ok());  // SNAPSHOT_DONE
    ASSERT_TRUE(server->Add("pod-b", {}, OpenOwnNetns()).ok());
    ASSERT_TRUE(ReceiveNetnsMessage(raw->get(), 0).ok());
    server->Remove("pod-a");
    absl::StatusOr<ReceivedNetnsMessage> remove = ReceiveNetnsMessage(raw->get(), 0);
    ASSERT_TRUE(remove.ok());
    EXPECT_EQ(remove->message.kind(), PodNetnsMessage::REMOVE);
  }
  for (int i = 0; i < 1000 && server->connected(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(server->connected());
  EXPECT_EQ(acks_.size(), 0u);

  ClientRunner client(path_);
  ASSERT_TRUE(client.Start().ok());
  ASSERT_TRUE(acks_.WaitForSize(3));
  std::vector<NetnsAckEvent> acks = acks_.Snapshot();
  EXPECT_EQ(acks[0].kind, PodNetnsMessage::ADD);
  EXPECT_EQ(acks[0].workload_uid, "pod-b");
  EXPECT_EQ(acks[1].kind, PodNetnsMessage::REMOVE);
  EXPECT_EQ(acks[1].workload_uid, "pod-a");
  EXPECT_EQ(acks[2].kind, PodNetnsMessage::SNAPSHOT_DONE);
}

TEST_F(NetnsChannelTest, ConnectGivesUpAfterTheCallersBound) {
  NetnsChannelClient::ConnectOptions options;
  options.max_wait = absl::Milliseconds(100);
  auto start = std::chrono::steady_clock::now();
  auto client = NetnsChannelClient::Connect(
      path_, [](const PodNetnsMessage&, event::ScopedFd) { return NetnsChannelClient::Outcome{}; }, options);
  EXPECT_TRUE(absl::IsDeadlineExceeded(client.status())) << client.status();
  EXPECT_THAT(std::string(client.status().message()), HasSubstr(path_));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(NetnsChannelTest, SocketIsOwnerOnlyAndOtherFilesAreNotReplaced) {
  {
    auto server = MakeServer();
    struct stat st {};
    ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  EXPECT_FALSE(std::filesystem::exists(path_));  // Stop() removes it
  { std::ofstream(path_) << "not a socket"; }
  auto server = NetnsChannelServer::Create({.socket_path = path_, .on_ack = [](auto&) {}});
  EXPECT_TRUE(absl::IsFailedPrecondition(server.status())) << server.status();
  EXPECT_TRUE(std::filesystem::is_regular_file(path_));
}

// Far more packets than the kernel queues per unix socket (net.unix.max_dgram_qlen, 10 by
// default) in both directions: a blocking resync would deadlock against ztunnel's acks.
TEST_F(NetnsChannelTest, LargeResyncCompletesWithEveryAck) {
  auto server = MakeServer();
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(server->Add("pod-" + std::to_string(i), {}, OpenOwnNetns()).ok());
  }
  ClientRunner client(path_);
  ASSERT_TRUE(client.Start().ok());
  ASSERT_TRUE(acks_.WaitForSize(301));
  std::vector<Seen> seen = client.seen.Snapshot();
  ASSERT_EQ(seen.size(), 301u);
  EXPECT_EQ(seen.back().message.kind(), PodNetnsMessage::SNAPSHOT_DONE);
  EXPECT_EQ(acks_.Snapshot().back().kind, PodNetnsMessage::SNAPSHOT_DONE);
}

TEST_F(NetnsChannelTest, ThousandMessagesLeakNoFd) {
  const size_t before = CountOpenFds();
  {
    auto server = MakeServer();
    ClientRunner client(path_);
    ASSERT_TRUE(client.Start().ok());
    ASSERT_TRUE(acks_.WaitForSize(1));
    for (int i = 0; i < 500; ++i) {
      const std::string uid = "pod-" + std::to_string(i);
      ASSERT_TRUE(server->Add(uid, {"10.1.0.1"}, OpenOwnNetns()).ok());
      server->Remove(uid);
    }
    ASSERT_TRUE(acks_.WaitForSize(1001));
    for (const NetnsAckEvent& ack : acks_.Snapshot()) EXPECT_EQ(ack.error, "");
    client.Stop();
    server->Stop();
  }
  EXPECT_EQ(CountOpenFds(), before);
}

}  // namespace
}  // namespace weft::nodeapi
