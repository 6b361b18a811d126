// What ztunnel reports about each proxied connection: Prometheus series labelled by
// reporter, workloads, namespaces, principals and security policy, and one JSON
// access-log line when the connection ends. Never payload, never key material.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/admin/metrics_registry.h"

namespace weft::ztunnel {

// Who talked to whom, as far as this ztunnel knows. Filled in as the connection is set up.
struct ConnectionRecord {
  std::string direction;  // "outbound" | "inbound"
  std::string reporter;   // "source" | "destination"
  std::string source_address, destination_address;  // ip:port
  std::string source_workload, source_namespace, source_principal;
  std::string destination_workload, destination_namespace, destination_principal;
  std::string destination_service;  // "<ns>/<name>" when a VIP was dialled
  std::string security_policy = "none";  // "mutual_tls" | "none"
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  uint64_t bytes_sent = 0;      // toward the destination
  uint64_t bytes_received = 0;  // back from the destination
};

class ConnectionTelemetry {
 public:
  struct Options {
    admin::MetricsRegistry* metrics = nullptr;
    // "" or "off": no access log; "stdout", "stderr" or a file path (appended).
    std::string access_log = "stdout";
  };
  static absl::StatusOr<std::unique_ptr<ConnectionTelemetry>> Create(const Options& options);
  ~ConnectionTelemetry();

  // The connection is established (tunnel up / upstream connected).
  void Opened(const ConnectionRecord& record);
  // It ended; `reason` is OK for an orderly close. Counts bytes, logs the access line.
  void Closed(const ConnectionRecord& record, const absl::Status& reason);
  // It never got going: refused by policy, upstream refused, bad peer, no certificate.
  // `reason` is a short token ("policy_denied", "upstream_refused", "tls_handshake", ...).
  void Failed(const ConnectionRecord& record, const std::string& reason, const std::string& detail);

 private:
  explicit ConnectionTelemetry(const Options& options) : options_(options) {}
  prometheus::Labels LabelsOf(const ConnectionRecord& record) const;
  void WriteAccessLine(const ConnectionRecord& record, const std::string& outcome,
                       const std::string& detail);

  Options options_;
  prometheus::Family<prometheus::Counter>* opened_ = nullptr;
  prometheus::Family<prometheus::Counter>* closed_ = nullptr;
  prometheus::Family<prometheus::Counter>* sent_ = nullptr;
  prometheus::Family<prometheus::Counter>* received_ = nullptr;
  prometheus::Family<prometheus::Counter>* failed_ = nullptr;
  std::mutex log_mu_;
  FILE* log_ = nullptr;
  bool owns_log_ = false;
};

// Short reason token of a close status, for labels ("ok", "reset", "timeout", ...).
std::string CloseReasonToken(const absl::Status& reason);

}  // namespace weft::ztunnel
