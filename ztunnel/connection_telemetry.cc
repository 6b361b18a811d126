#include "ztunnel/connection_telemetry.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/json/json_string.h"

namespace weft::ztunnel {

absl::StatusOr<std::unique_ptr<ConnectionTelemetry>> ConnectionTelemetry::Create(
    const Options& options) {
  std::unique_ptr<ConnectionTelemetry> t(new ConnectionTelemetry(options));
  if (options.metrics != nullptr) {
    auto family = [&](const char* name, const char* help,
                      prometheus::Family<prometheus::Counter>** out) -> absl::Status {
      auto f = options.metrics->CounterFamily(name, help);
      if (!f.ok()) return f.status();
      *out = *f;
      return absl::OkStatus();
    };
    absl::Status s = family("weft_tcp_connections_opened_total",
                            "Proxied TCP connections established", &t->opened_);
    s.Update(family("weft_tcp_connections_closed_total", "Proxied TCP connections closed",
                    &t->closed_));
    s.Update(family("weft_tcp_sent_bytes_total",
                    "Bytes sent toward the destination of proxied connections", &t->sent_));
    s.Update(family("weft_tcp_received_bytes_total",
                    "Bytes received from the destination of proxied connections", &t->received_));
    s.Update(family("weft_tcp_connection_failures_total",
                    "Connections refused or failed before carrying data, by reason", &t->failed_));
    if (!s.ok()) return s;
  }
  const std::string& where = options.access_log;
  if (where == "stdout") {
    t->log_ = stdout;
  } else if (where == "stderr") {
    t->log_ = stderr;
  } else if (!where.empty() && where != "off") {
    t->log_ = std::fopen(where.c_str(), "ae");
    if (t->log_ == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--access-log ", where, ": ", std::strerror(errno)));
    }
    t->owns_log_ = true;
  }
  return t;
}

ConnectionTelemetry::~ConnectionTelemetry() {
  if (owns_log_ && log_ != nullptr) std::fclose(log_);
}

prometheus::Labels ConnectionTelemetry::LabelsOf(const ConnectionRecord& r) const {
  auto or_unknown = [](const std::string& s) { return s.empty() ? std::string("unknown") : s; };
  return {{"reporter", r.reporter},
          {"source_workload", or_unknown(r.source_workload)},
          {"source_workload_namespace", or_unknown(r.source_namespace)},
          {"source_principal", or_unknown(r.source_principal)},
          {"destination_workload", or_unknown(r.destination_workload)},
          {"destination_workload_namespace", or_unknown(r.destination_namespace)},
          {"destination_principal", or_unknown(r.destination_principal)},
          {"destination_service", or_unknown(r.destination_service)},
          {"connection_security_policy", r.security_policy}};
}

void ConnectionTelemetry::Opened(const ConnectionRecord& record) {
  if (opened_ != nullptr) opened_->Add(LabelsOf(record)).Increment();
}

void ConnectionTelemetry::Closed(const ConnectionRecord& record, const absl::Status& reason) {
  if (closed_ != nullptr) {
    prometheus::Labels labels = LabelsOf(record);
    closed_->Add(labels).Increment();
    sent_->Add(labels).Increment(static_cast<double>(record.bytes_sent));
    received_->Add(labels).Increment(static_cast<double>(record.bytes_received));
  }
  WriteAccessLine(record, CloseReasonToken(reason),
                  reason.ok() ? std::string() : std::string(reason.message()));
}

void ConnectionTelemetry::Failed(const ConnectionRecord& record, const std::string& reason,
                                 const std::string& detail) {
  if (failed_ != nullptr) {
    prometheus::Labels labels = LabelsOf(record);
    labels["reason"] = reason;
    failed_->Add(labels).Increment();
  }
  WriteAccessLine(record, reason, detail);
}

void ConnectionTelemetry::WriteAccessLine(const ConnectionRecord& r, const std::string& outcome,
                                          const std::string& detail) {
  if (log_ == nullptr) return;
  const auto duration = std::chrono::steady_clock::now() - r.start;
  std::string line = "{\"time\":";
  json::AppendJsonString(line, absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()));
  auto field = [&line](const char* key, const std::string& value) {
    if (value.empty()) return;
    absl::StrAppend(&line, ",\"", key, "\":");
    json::AppendJsonString(line, value);
  };
  field("direction", r.direction);
  field("reporter", r.reporter);
  field("src.addr", r.source_address);
  field("src.workload", r.source_workload);
  field("src.namespace", r.source_namespace);
  field("src.identity", r.source_principal);
  field("dst.addr", r.destination_address);
  field("dst.service", r.destination_service);
  field("dst.workload", r.destination_workload);
  field("dst.namespace", r.destination_namespace);
  field("dst.identity", r.destination_principal);
  field("security", r.security_policy);
  absl::StrAppend(&line, ",\"bytes_sent\":", r.bytes_sent, ",\"bytes_received\":",
                  r.bytes_received, ",\"duration_ms\":",
                  std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
  field("outcome", outcome);
  field("error", detail);
  line += "}\n";
  std::lock_guard<std::mutex> lock(log_mu_);
  std::fwrite(line.data(), 1, line.size(), log_);
  std::fflush(log_);
}

std::string CloseReasonToken(const absl::Status& reason) {
  if (reason.ok()) return "closed";
  switch (reason.code()) {
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    case absl::StatusCode::kUnavailable:
      return "reset";
    case absl::StatusCode::kAborted:
      return "aborted";
    case absl::StatusCode::kCancelled:
      return "drained";
    default:
      return "error";
  }
}

}  // namespace weft::ztunnel
