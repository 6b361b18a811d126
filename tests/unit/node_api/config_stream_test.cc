// The config stream over a real unix socket: agent-side NodeApiServer, ztunnel-side
// ConfigStreamClient.
#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "agent/nodeapi/node_api_server.h"
#include "agent/nodeapi/snapshot_broadcast.h"
#include "tests/unit/ca/ca_test_support.h"
#include "tests/unit/node_api/node_api_test_support.h"
#include "ztunnel/nodeapi/config_stream_client.h"

namespace weft {
namespace {

using agent::nodeapi::NodeApiOptions;
using agent::nodeapi::NodeApiServer;
using nodeapi::v1::ConfigUpdate;
using nodeapi_testing::MakeConfig;
using nodeapi_testing::MetricValue;
using nodeapi_testing::WaitUntil;
using ztunnel::ConfigStreamClient;

// Collects what the client's on_update sees and answers with a scripted ack error.
class RecordingApplier {
 public:
  std::string Apply(const ConfigUpdate& update) {
    std::lock_guard<std::mutex> lock(mu_);
    updates_.push_back(update);
    auto it = reject_.find(update.version());
    return it == reject_.end() ? "" : it->second;
  }
  void RejectVersion(uint64_t version, std::string error) {
    std::lock_guard<std::mutex> lock(mu_);
    reject_[version] = std::move(error);
  }
  std::vector<ConfigUpdate> updates() const {
    std::lock_guard<std::mutex> lock(mu_);
    return updates_;
  }
  bool Saw(uint64_t version, size_t min_count = 1) const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& u : updates_) n += u.version() == version;
    return n >= min_count;
  }

 private:
  mutable std::mutex mu_;
  std::vector<ConfigUpdate> updates_;
  std::map<uint64_t, std::string> reject_;
};

class ConfigStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_path_ = dir_.File("run/node-api.sock");
    store_.Publish(MakeConfig("cluster.local", {{"uid-a", "shop", "cart", "node-a"}}), "test");
  }

  absl::StatusOr<std::unique_ptr<NodeApiServer>> StartServer() {
    NodeApiOptions options;
    options.socket_path = socket_path_;
    options.node = "node-a";
    options.store = &store_;
    options.metrics = &metrics_;
    options.enrolled_workload_uids = [] { return std::vector<std::string>{"uid-a"}; };
    return NodeApiServer::Create(std::move(options));
  }

  std::unique_ptr<ConfigStreamClient> StartClient(RecordingApplier* applier) {
    auto client = ConfigStreamClient::Create(
        {.socket_path = socket_path_,
         .on_update = [applier](const ConfigUpdate& u) { return applier->Apply(u); },
         .initial_backoff = absl::Milliseconds(20),
         .max_backoff = absl::Milliseconds(200)});
    EXPECT_TRUE(client.ok()) << client.status();
    (*client)->Start();
    return *std::move(client);
  }

  ca::testing::TempDir dir_;
  std::string socket_path_;
  config::SnapshotStore store_;
  admin::MetricsRegistry metrics_;
};

TEST_F(ConfigStreamTest, FirstUpdateIsTheFullSnapshotThenOnePerPublish) {
  auto server = StartServer();
  ASSERT_TRUE(server.ok()) << server.status();
  RecordingApplier applier;
  auto client = StartClient(&applier);

  ASSERT_TRUE(WaitUntil([&] { return applier.Saw(1); }));
  ConfigUpdate first = applier.updates().front();
  EXPECT_EQ(first.version(), 1u);
  EXPECT_EQ(first.node(), "node-a");
  EXPECT_EQ(first.agent_epoch(), (*server)->agent_epoch());
  EXPECT_FALSE(first.agent_epoch().empty());
  ASSERT_EQ(first.snapshot().workloads_size(), 1);
  EXPECT_EQ(first.snapshot().workloads(0).uid(), "uid-a");
  EXPECT_TRUE(WaitUntil([&] { return client->connected(); }));

  store_.Publish(MakeConfig("cluster.local", {{"uid-a", "shop", "cart", "node-a"},
                                              {"uid-b", "shop", "pay", "node-a"}}),
                 "test");
  ASSERT_TRUE(WaitUntil([&] { return applier.Saw(2); }));
  EXPECT_EQ(applier.updates().back().snapshot().workloads_size(), 2);
  EXPECT_TRUE(WaitUntil([&] { return (*server)->last_acked_version() == 2; }));
  EXPECT_EQ(client->last_applied_version(), 2u);
  EXPECT_EQ(MetricValue(metrics_, "weft_node_api_config_streams"), 1);
  EXPECT_TRUE(WaitUntil([&] {
    return MetricValue(metrics_, "weft_node_api_config_acks_total{result=\"ok\"}") == 2;
  }));
}

TEST_F(ConfigStreamTest, RejectedVersionIsRecordedWithItsError) {
  auto server = StartServer();
  ASSERT_TRUE(server.ok()) << server.status();
  RecordingApplier applier;
  applier.RejectVersion(2, "listener 15008 cannot bind");
  auto client = StartClient(&applier);
  ASSERT_TRUE(WaitUntil([&] { return (*server)->last_acked_version() == 1; }));

  store_.Publish(MakeConfig("cluster.local", {}), "test");
  ASSERT_TRUE(WaitUntil([&] {
    auto streams = (*server)->ConfigStreams();
    return streams.size() == 1 && streams[0].last_acked_version == 2;
  }));
  auto streams = (*server)->ConfigStreams();
  EXPECT_EQ(streams[0].last_ack_error, "listener 15008 cannot bind");
  EXPECT_EQ(streams[0].last_sent_version, 2u);
  // A rejected version is not "applied": the server-wide and client-side marks stay at 1.
  EXPECT_EQ((*server)->last_acked_version(), 1u);
  EXPECT_EQ(client->last_applied_version(), 1u);
  EXPECT_EQ(MetricValue(metrics_, "weft_node_api_config_acks_total{result=\"rejected\"}"), 1);
}

TEST_F(ConfigStreamTest, ClientResynchronisesAfterTheAgentRestarts) {
  auto server = StartServer();
  ASSERT_TRUE(server.ok()) << server.status();
  RecordingApplier applier;
  auto client = StartClient(&applier);
  ASSERT_TRUE(WaitUntil([&] { return applier.Saw(1); }));
  const std::string old_epoch = (*server)->agent_epoch();

  (*server)->Stop();
  EXPECT_TRUE(WaitUntil([&] { return !client->connected(); }));
  store_.Publish(MakeConfig("cluster.local", {{"uid-c", "shop", "cart", "node-a"}}), "test");
  auto restarted = StartServer();
  ASSERT_TRUE(restarted.ok()) << restarted.status();

  // The new server's first update is the whole snapshot in force, under a new epoch.
  ASSERT_TRUE(WaitUntil([&] { return applier.Saw(2); }));
  ConfigUpdate resync = applier.updates().back();
  EXPECT_NE(resync.agent_epoch(), old_epoch);
  EXPECT_EQ(resync.agent_epoch(), (*restarted)->agent_epoch());
  ASSERT_EQ(resync.snapshot().workloads_size(), 1);
  EXPECT_EQ(resync.snapshot().workloads(0).uid(), "uid-c");
  EXPECT_TRUE(WaitUntil([&] { return client->connected(); }));
  EXPECT_TRUE(WaitUntil([&] { return (*restarted)->last_acked_version() == 2; }));
}

TEST_F(ConfigStreamTest, ANewerStreamDoesNotEndAnOlderOne) {
  auto server = StartServer();
  ASSERT_TRUE(server.ok()) << server.status();
  RecordingApplier draining, starting;
  auto old_client = StartClient(&draining);
  ASSERT_TRUE(WaitUntil([&] { return draining.Saw(1); }));
  auto new_client = StartClient(&starting);
  ASSERT_TRUE(WaitUntil([&] { return starting.Saw(1); }));

  store_.Publish(MakeConfig("cluster.local", {}), "test");
  EXPECT_TRUE(WaitUntil([&] { return draining.Saw(2) && starting.Saw(2); }));
  EXPECT_EQ((*server)->ConfigStreams().size(), 2u);
  EXPECT_EQ(MetricValue(metrics_, "weft_node_api_config_streams"), 2);
}

TEST_F(ConfigStreamTest, StopEndsOpenStreamsWithinASecond) {
  auto server = StartServer();
  ASSERT_TRUE(server.ok()) << server.status();
  RecordingApplier applier;
  auto client = StartClient(&applier);
  ASSERT_TRUE(WaitUntil([&] { return client->connected(); }));

  const absl::Time start = absl::Now();
  (*server)->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  struct stat st;
  EXPECT_NE(lstat(socket_path_.c_str(), &st), 0) << "socket file left behind";

  const absl::Time client_start = absl::Now();
  client->Stop();
  EXPECT_LT(absl::Now() - client_start, absl::Seconds(1));
}

TEST_F(ConfigStreamTest, SocketIsOwnerOnlyInAPrivateDirectory) {
  auto server = StartServer();
  ASSERT_TRUE(server.ok()) << server.status();
  struct stat st;
  ASSERT_EQ(lstat(socket_path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(dir_.File("run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(ConfigStreamTest, StaleSocketIsReplacedOtherFilesAreRefused) {
  ASSERT_EQ(mkdir(dir_.File("run").c_str(), 0700), 0);
  // A socket file nobody listens on any more (a crashed agent's).
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, socket_path_.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);
  auto server = StartServer();
  ASSERT_TRUE(server.ok()) << server.status();

  // A second server on a live socket would steal it from the first.
  auto second = StartServer();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists) << second.status();
  (*server)->Stop();

  int file = open(socket_path_.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(file, 0);
  close(file);
  auto refused = StartServer();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  struct stat st;
  ASSERT_EQ(lstat(socket_path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode)) << "a regular file must never be deleted";
}

TEST_F(ConfigStreamTest, StatusReportsNodeVersionAndEnrolledPods) {
  auto server = StartServer();
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = nodeapi::v1::NodeApi::NewStub(
      grpc::CreateChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  nodeapi::v1::StatusResponse status;
  ASSERT_TRUE(stub->GetStatus(&context, nodeapi::v1::StatusRequest(), &status).ok());
  EXPECT_EQ(status.node(), "node-a");
  EXPECT_EQ(status.config_version(), 1u);
  ASSERT_EQ(status.enrolled_workload_uids_size(), 1);
  EXPECT_EQ(status.enrolled_workload_uids(0), "uid-a");
}

// A slow stream never sees the versions published while it was busy, only the newest.
TEST(SnapshotBroadcastTest, KeepsOnlyTheNewestSnapshot) {
  config::SnapshotStore store;
  auto broadcast = agent::nodeapi::SnapshotBroadcast::Attach(&store);
  EXPECT_EQ(broadcast->WaitNewer(0, absl::Milliseconds(10)), nullptr);
  for (int i = 0; i < 5; ++i) store.Publish(MakeConfig("cluster.local", {}), "test");
  auto latest = broadcast->WaitNewer(1, absl::ZeroDuration());
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(latest->version, 5u);
  EXPECT_EQ(broadcast->WaitNewer(5, absl::Milliseconds(10)), nullptr);
  broadcast->Close();
  EXPECT_EQ(broadcast->WaitNewer(0, absl::Seconds(5)), nullptr);
}

}  // namespace
}  // namespace weft
