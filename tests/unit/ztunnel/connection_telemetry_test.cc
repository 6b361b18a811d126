// ConnectionTelemetry: the access log (one JSON line per finished connection) and the
// Prometheus series an operator reads.
#include "ztunnel/connection_telemetry.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/admin/metrics_registry.h"

namespace weft::ztunnel {
namespace {

using google::protobuf::Struct;

class TelemetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/weft_access_XXXXXX";
    const int fd = mkstemp(pattern.data());
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = pattern;
    absl::StatusOr<std::unique_ptr<ConnectionTelemetry>> t =
        ConnectionTelemetry::Create({.metrics = &metrics_, .access_log = path_});
    ASSERT_TRUE(t.ok()) << t.status();
    telemetry_ = *std::move(t);
  }
  void TearDown() override { ::unlink(path_.c_str()); }

  std::vector<std::string> Lines() const {
    std::ifstream in(path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  static Struct Parse(const std::string& line) {
    Struct out;
    auto status = google::protobuf::util::JsonStringToMessage(line, &out);
    EXPECT_TRUE(status.ok()) << status << " in " << line;
    return out;
  }

  static ConnectionRecord Record() {
    ConnectionRecord r;
    r.direction = "inbound";
    r.reporter = "destination";
    r.source_address = "10.0.0.1:40000";
    r.destination_address = "10.0.0.2:8080";
    r.source_workload = "web-1";
    r.source_namespace = "shop";
    r.source_principal = "spiffe://cluster.local/ns/shop/sa/web";
    r.destination_workload = "db-1";
    r.destination_namespace = "shop";
    r.destination_principal = "spiffe://cluster.local/ns/shop/sa/db";
    r.security_policy = "mutual_tls";
    r.bytes_sent = 1234;
    r.bytes_received = 56789;
    r.start = std::chrono::steady_clock::now() - std::chrono::milliseconds(250);
    return r;
  }

  admin::MetricsRegistry metrics_;
  std::string path_;
  std::unique_ptr<ConnectionTelemetry> telemetry_;
};

TEST_F(TelemetryTest, ClosedWritesOneParseableLine) {
  telemetry_->Opened(Record());
  EXPECT_TRUE(Lines().empty()) << "Opened must not log";
  telemetry_->Closed(Record(), absl::OkStatus());
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  const Struct line = Parse(lines[0]);
  const auto& f = line.fields();
  EXPECT_EQ(f.at("direction").string_value(), "inbound");
  EXPECT_EQ(f.at("src.identity").string_value(), "spiffe://cluster.local/ns/shop/sa/web");
  EXPECT_EQ(f.at("dst.identity").string_value(), "spiffe://cluster.local/ns/shop/sa/db");
  EXPECT_EQ(f.at("src.addr").string_value(), "10.0.0.1:40000");
  EXPECT_EQ(f.at("dst.addr").string_value(), "10.0.0.2:8080");
  EXPECT_EQ(f.at("security").string_value(), "mutual_tls");
  EXPECT_EQ(f.at("bytes_sent").number_value(), 1234);
  EXPECT_EQ(f.at("bytes_received").number_value(), 56789);
  EXPECT_GE(f.at("duration_ms").number_value(), 250);
  EXPECT_LT(f.at("duration_ms").number_value(), 60000);
  EXPECT_EQ(f.at("outcome").string_value(), "closed");
  EXPECT_TRUE(f.contains("time"));
  EXPECT_FALSE(f.contains("error"));
}

TEST_F(TelemetryTest, FailedWritesReasonAndDetail) {
  ConnectionRecord r = Record();
  r.source_principal = "spiffe://cluster.local/ns/shop/sa/we\"ird\n";  // must stay valid JSON
  telemetry_->Failed(r, "policy_denied", "DENY by shop/deny-all");
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  const Struct line = Parse(lines[0]);
  EXPECT_EQ(line.fields().at("outcome").string_value(), "policy_denied");
  EXPECT_EQ(line.fields().at("error").string_value(), "DENY by shop/deny-all");
  EXPECT_EQ(line.fields().at("src.identity").string_value(), r.source_principal);
}

TEST_F(TelemetryTest, ErrorCloseNamesTheReason) {
  telemetry_->Closed(Record(), absl::UnavailableError("connection reset by peer"));
  telemetry_->Closed(Record(), absl::DeadlineExceededError("idle"));
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(Parse(lines[0]).fields().at("outcome").string_value(), "reset");
  EXPECT_EQ(Parse(lines[0]).fields().at("error").string_value(), "connection reset by peer");
  EXPECT_EQ(Parse(lines[1]).fields().at("outcome").string_value(), "timeout");
}

TEST_F(TelemetryTest, ConcurrentWritersNeverInterleaveLines) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this] {
      for (int i = 0; i < 100; ++i) telemetry_->Closed(Record(), absl::OkStatus());
    });
  }
  for (std::thread& t : threads) t.join();
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 400u);
  for (const std::string& line : lines) Parse(line);
}

TEST_F(TelemetryTest, MetricsCountOpenedClosedFailedAndBytes) {
  telemetry_->Opened(Record());
  telemetry_->Closed(Record(), absl::OkStatus());
  ConnectionRecord plain = Record();
  plain.security_policy = "none";
  telemetry_->Failed(plain, "upstream_refused", "connection refused");
  const std::string text = metrics_.SerializeText();
  auto has_series = [&text](const std::string& name, const std::string& label) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with(name + "{") && line.find(label) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(
      has_series("weft_tcp_connections_opened_total", "connection_security_policy=\"mutual_tls\""))
      << text;
  EXPECT_TRUE(
      has_series("weft_tcp_connections_closed_total", "connection_security_policy=\"mutual_tls\""))
      << text;
  EXPECT_TRUE(has_series("weft_tcp_connection_failures_total", "reason=\"upstream_refused\""))
      << text;
  EXPECT_TRUE(
      has_series("weft_tcp_connection_failures_total", "connection_security_policy=\"none\""))
      << text;
  EXPECT_TRUE(has_series("weft_tcp_sent_bytes_total", "} 1234")) << text;
  EXPECT_TRUE(has_series("weft_tcp_received_bytes_total", "} 56789")) << text;
  EXPECT_TRUE(has_series("weft_tcp_connections_opened_total",
                         "source_principal=\"spiffe://cluster.local/ns/shop/sa/web\""))
      << text;
}

TEST(TelemetryCreateTest, BadPathNamesTheFlag) {
  admin::MetricsRegistry metrics;
  absl::StatusOr<std::unique_ptr<ConnectionTelemetry>> t = ConnectionTelemetry::Create(
      {.metrics = &metrics, .access_log = "/nonexistent-dir/weft/access.log"});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("--access-log"), absl::string_view::npos) << t.status();
  EXPECT_NE(t.status().message().find("/nonexistent-dir/weft/access.log"), absl::string_view::npos);
}

TEST(TelemetryCreateTest, OffLogsNothingButStillCounts) {
  admin::MetricsRegistry metrics;
  absl::StatusOr<std::unique_ptr<ConnectionTelemetry>> t =
      ConnectionTelemetry::Create({.metrics = &metrics, .access_log = "off"});
  ASSERT_TRUE(t.ok()) << t.status();
  ConnectionRecord r;
  r.reporter = "source";
  (*t)->Failed(r, "no_certificate", "");
  EXPECT_NE(metrics.SerializeText().find("reason=\"no_certificate\""), std::string::npos);
}

}  // namespace
}  // namespace weft::ztunnel
