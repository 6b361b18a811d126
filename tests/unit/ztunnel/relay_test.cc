// Relay: joining two legs of a proxied connection, driven through fake legs that record
// what the relay asks of them.
#include "ztunnel/relay.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/admin/metrics_registry.h"

namespace weft::ztunnel {
namespace {

class FakeLeg : public RelayLeg {
 public:
  bool Deliver(std::string_view data) override {
    delivered += data;
    ++deliveries;
    return accept;
  }
  void DeliverEnd() override { ++ends; }
  void Abort(const absl::Status& reason) override {
    ++aborts;
    abort_reason = reason;
  }
  void SetReading(bool enabled) override {
    reading = enabled;
    reading_calls.push_back(enabled);
  }

  std::string delivered;
  int deliveries = 0;
  int ends = 0;
  int aborts = 0;
  absl::Status abort_reason;
  bool reading = true;
  std::vector<bool> reading_calls;
  bool accept = true;  // what Deliver answers
};

// Telemetry into a temp access log plus metrics, so tests can count reports.
class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/weft_relay_XXXXXX";
    const int fd = mkstemp(pattern.data());
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = pattern;
    auto t = ConnectionTelemetry::Create({.metrics = &metrics_, .access_log = path_});
    ASSERT_TRUE(t.ok()) << t.status();
    telemetry_ = *std::move(t);
  }
  void TearDown() override { ::unlink(path_.c_str()); }

  std::vector<std::string> LogLines() const {
    std::ifstream in(path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  std::unique_ptr<Relay> MakeRelay(Relay::Hooks hooks = {}) {
    ConnectionRecord record;
    record.direction = "outbound";
    record.reporter = "source";
    return std::make_unique<Relay>(telemetry_.get(), record, std::move(hooks));
  }

  admin::MetricsRegistry metrics_;
  std::string path_;
  std::unique_ptr<ConnectionTelemetry> telemetry_;
  FakeLeg down_, up_;
};

TEST_F(RelayTest, BytesFlowBothWaysAndAreCounted) {
  auto relay = MakeRelay();
  relay->Attach(Relay::kDownstream, &down_);
  relay->Attach(Relay::kUpstream, &up_);
  relay->OnRead(Relay::kDownstream, "hello ");
  relay->OnRead(Relay::kDownstream, "world");
  relay->OnRead(Relay::kUpstream, "pong");
  EXPECT_EQ(up_.delivered, "hello world");
  EXPECT_EQ(down_.delivered, "pong");
  EXPECT_EQ(relay->record().bytes_sent, 11u);
  EXPECT_EQ(relay->record().bytes_received, 4u);
}

TEST_F(RelayTest, BytesReadBeforeUpstreamAttachIsHeldAndDeliveredInOrder) {
  auto relay = MakeRelay();
  relay->Attach(Relay::kDownstream, &down_);
  relay->RegisterPending(Relay::kUpstream, &up_);
  relay->OnRead(Relay::kDownstream, "first,");
  relay->OnRead(Relay::kDownstream, "second");
  EXPECT_EQ(up_.deliveries, 0) << "a pending leg is never delivered to";
  relay->Attach(Relay::kUpstream, &up_);
  EXPECT_EQ(up_.delivered, "first,second");
  relay->OnRead(Relay::kDownstream, ",third");
  EXPECT_EQ(up_.delivered, "first,second,third");
  EXPECT_EQ(relay->record().bytes_sent, 18u);
  EXPECT_TRUE(down_.reading);
}

TEST_F(RelayTest, EndReadBeforeAttachFollowsTheHeldBytes) {
  auto relay = MakeRelay();
  relay->Attach(Relay::kDownstream, &down_);
  relay->OnRead(Relay::kDownstream, "request");
  relay->OnReadEnd(Relay::kDownstream);
  EXPECT_EQ(up_.ends, 0);
  relay->Attach(Relay::kUpstream, &up_);
  EXPECT_EQ(up_.delivered, "request");
  EXPECT_EQ(up_.ends, 1);
  EXPECT_EQ(down_.ends, 0) << "the end travels only toward the upstream";
}

TEST_F(RelayTest, HoldingBeyondTheBoundPausesTheSourceUntilAttached) {
  auto relay = MakeRelay();
  relay->Attach(Relay::kDownstream, &down_);
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 4; ++i) relay->OnRead(Relay::kDownstream, chunk);
  EXPECT_TRUE(down_.reading) << "256 KiB is within the bound";
  relay->OnRead(Relay::kDownstream, "y");
  EXPECT_FALSE(down_.reading) << "beyond 256 KiB the source must pause";
  relay->Attach(Relay::kUpstream, &up_);
  EXPECT_EQ(up_.delivered.size(), 4 * chunk.size() + 1);
  EXPECT_EQ(up_.delivered.back(), 'y');
  // The upstream took it all: the paused source reads again.
  EXPECT_TRUE(down_.reading);
}

TEST_F(RelayTest, HeldBytesThatBackUpTheUpstreamKeepTheSourcePaused) {
  auto relay = MakeRelay();
  relay->Attach(Relay::kDownstream, &down_);
  relay->OnRead(Relay::kDownstream, std::string(300 * 1024, 'x'));
  EXPECT_FALSE(down_.reading);
  up_.accept = false;
  relay->Attach(Relay::kUpstream, &up_);
  EXPECT_FALSE(down_.reading);
  relay->OnDrained(Relay::kUpstream);
  EXPECT_TRUE(down_.reading);
}

TEST_F(RelayTest, BackpressurePausesTheOtherLegUntilDrained) {
  auto relay = MakeRelay();
  relay->Attach(Relay::kDownstream, &down_);
  relay->Attach(Relay::kUpstream, &up_);
  up_.accept = false;
  relay->OnRead(Relay::kDownstream, "lots");
  EXPECT_FALSE(down_.reading);
  EXPECT_TRUE(up_.reading);
  relay->OnDrained(Relay::kUpstream);
  EXPECT_TRUE(down_.reading);
  // And the other direction.
  down_.accept = false;
  relay->OnRead(Relay::kUpstream, "reply");
  EXPECT_FALSE(up_.reading);
  relay->OnDrained(Relay::kDownstream);
  EXPECT_TRUE(up_.reading);
}

TEST_F(RelayTest, HalfClosePassesThroughAndOrderlyCloseReportsClosedOnce) {
  int finished = 0;
  Relay::Hooks hooks;
  hooks.on_finished = [&] { ++finished; };
  auto relay = MakeRelay(std::move(hooks));
  relay->Attach(Relay::kDownstream, &down_);
  relay->Attach(Relay::kUpstream, &up_);
  relay->OnRead(Relay::kDownstream, "req");
  relay->OnReadEnd(Relay::kDownstream);
  EXPECT_EQ(up_.ends, 1);
  EXPECT_EQ(up_.aborts, 0);
  relay->OnRead(Relay::kUpstream, "resp");
  relay->OnReadEnd(Relay::kUpstream);
  EXPECT_EQ(down_.ends, 1);
  relay->OnLegClosed(Relay::kDownstream, absl::OkStatus());
  EXPECT_EQ(up_.aborts, 0) << "an orderly close of one leg leaves the other alone";
  EXPECT_FALSE(relay->finished());
  EXPECT_EQ(finished, 0);
  relay->OnLegClosed(Relay::kUpstream, absl::OkStatus());
  EXPECT_TRUE(relay->finished());
  EXPECT_EQ(finished, 1);
  relay.reset();  // the destructor must not report again
  EXPECT_EQ(finished, 1);
  const std::vector<std::string> lines = LogLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"outcome\":\"closed\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"bytes_sent\":3"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"bytes_received\":4"), std::string::npos) << lines[0];
}

TEST_F(RelayTest, ErrorCloseOfOneLegAbortsTheOther) {
  auto relay = MakeRelay();
  relay->Attach(Relay::kDownstream, &down_);
  relay->Attach(Relay::kUpstream, &up_);
  relay->OnLegClosed(Relay::kUpstream, absl::UnavailableError("reset by peer"));
  EXPECT_EQ(down_.aborts, 1);
  EXPECT_TRUE(absl::IsUnavailable(down_.abort_reason)) << down_.abort_reason;
  relay->OnLegClosed(Relay::kDownstream, absl::AbortedError("aborted"));
  EXPECT_EQ(up_.aborts, 0) << "a closed leg is never touched again";
  const std::vector<std::string> lines = LogLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"outcome\":\"reset\""), std::string::npos) << lines[0];
}

TEST_F(RelayTest, PendingUpstreamIsAbortedWhenDownstreamDies) {
  std::vector<absl::Status> failed;
  int ready = 0;
  Relay::Hooks hooks;
  hooks.on_upstream_ready = [&] { ++ready; };
  hooks.on_upstream_failed = [&](const absl::Status& s) { failed.push_back(s); };
  auto relay = MakeRelay(std::move(hooks));
  relay->Attach(Relay::kDownstream, &down_);
  relay->RegisterPending(Relay::kUpstream, &up_);
  relay->OnLegClosed(Relay::kDownstream, absl::UnavailableError("client reset"));
  EXPECT_EQ(up_.aborts, 1);
  EXPECT_EQ(up_.deliveries, 0);
  // The pending leg answers its abort.
  relay->OnLegClosed(Relay::kUpstream, up_.abort_reason);
  EXPECT_TRUE(relay->finished());
  EXPECT_EQ(ready, 0);
  EXPECT_EQ(failed.size(), 1u);
  const std::vector<std::string> lines = LogLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("\"outcome\":\"closed\""), std::string::npos)
      << "never opened: a failure, not a close: " << lines[0];
}

TEST_F(RelayTest, UpstreamThatNeverAttachesIsAFailureWithItsReason) {
  std::vector<absl::Status> failed;
  int finished = 0;
  Relay::Hooks hooks;
  hooks.on_upstream_failed = [&](const absl::Status& s) { failed.push_back(s); };
  hooks.on_finished = [&] { ++finished; };
  auto relay = MakeRelay(std::move(hooks));
  relay->Attach(Relay::kDownstream, &down_);
  relay->RegisterPending(Relay::kUpstream, &up_);
  relay->SetFailureReason("policy_denied");
  relay->OnLegClosed(Relay::kUpstream, absl::PermissionDeniedError("403"));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_TRUE(absl::IsPermissionDenied(failed[0]));
  EXPECT_EQ(down_.aborts, 1) << "nothing to relay to: the downstream is ended";
  relay->OnLegClosed(Relay::kDownstream, down_.abort_reason);
  EXPECT_EQ(finished, 1);
  EXPECT_EQ(failed.size(), 1u);
  const std::string text = metrics_.SerializeText();
  EXPECT_NE(text.find("reason=\"policy_denied\""), std::string::npos) << text;
  EXPECT_EQ(text.find("weft_tcp_connections_opened_total{"), std::string::npos) << text;
  EXPECT_EQ(text.find("weft_tcp_connections_closed_total{"), std::string::npos) << text;
  const std::vector<std::string> lines = LogLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"outcome\":\"policy_denied\""), std::string::npos) << lines[0];
}

TEST_F(RelayTest, OpenedRelayCountsOpenedAndClosedOnce) {
  int ready = 0;
  Relay::Hooks hooks;
  hooks.on_upstream_ready = [&] { ++ready; };
  auto relay = MakeRelay(std::move(hooks));
  relay->Attach(Relay::kDownstream, &down_);
  relay->Attach(Relay::kUpstream, &up_);
  EXPECT_EQ(ready, 1);
  relay->OnLegClosed(Relay::kUpstream, absl::OkStatus());
  relay->OnLegClosed(Relay::kDownstream, absl::OkStatus());
  relay.reset();
  const std::string text = metrics_.SerializeText();
  EXPECT_NE(text.find("weft_tcp_connections_opened_total{"), std::string::npos);
  EXPECT_NE(text.find("weft_tcp_connections_closed_total{"), std::string::npos);
  EXPECT_EQ(text.find("weft_tcp_connection_failures_total{"), std::string::npos) << text;
  std::string closed_line;
  for (size_t at = text.find("weft_tcp_connections_closed_total{"); at != std::string::npos;
       at = std::string::npos) {
    closed_line = text.substr(at, text.find('\n', at) - at);
  }
  EXPECT_TRUE(closed_line.ends_with(" 1")) << closed_line;
  EXPECT_EQ(LogLines().size(), 1u);
}

TEST_F(RelayTest, AbortAllAbortsLiveAndPendingLegs) {
  auto relay = MakeRelay();
  relay->Attach(Relay::kDownstream, &down_);
  relay->RegisterPending(Relay::kUpstream, &up_);
  relay->AbortAll(absl::CancelledError("pod left the mesh"));
  EXPECT_EQ(down_.aborts, 1);
  EXPECT_EQ(up_.aborts, 1);
  EXPECT_TRUE(absl::IsCancelled(down_.abort_reason));
}

TEST_F(RelayTest, DataForAClosedLegIsDropped) {
  auto relay = MakeRelay();
  relay->Attach(Relay::kDownstream, &down_);
  relay->Attach(Relay::kUpstream, &up_);
  relay->OnLegClosed(Relay::kDownstream, absl::OkStatus());
  relay->OnRead(Relay::kUpstream, "late reply");
  EXPECT_EQ(down_.deliveries, 0);
  EXPECT_EQ(relay->record().bytes_received, 0u);
}

}  // namespace
}  // namespace weft::ztunnel
