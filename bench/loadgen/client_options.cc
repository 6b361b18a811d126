#include "bench/loadgen/client_options.h"

#include "absl/strings/str_cat.h"
#include "bench/loadgen/wire_framing.h"

namespace weft::loadgen {

absl::StatusOr<Scenario> ParseScenario(std::string_view text) {
  if (text == "rr") return Scenario::kRequestResponse;
  if (text == "connrate") return Scenario::kConnectionRate;
  if (text == "bulk") return Scenario::kBulk;
  return absl::InvalidArgumentError(
      absl::StrCat("--scenario: expected rr, connrate or bulk, got \"", std::string(text), "\""));
}

std::string ScenarioName(Scenario scenario) {
  switch (scenario) {
    case Scenario::kRequestResponse:
      return "rr";
    case Scenario::kConnectionRate:
      return "connrate";
    case Scenario::kBulk:
      return "bulk";
  }
  return "unknown";
}

absl::StatusOr<BulkDirection> ParseBulkDirection(std::string_view text) {
  if (text == "upload") return BulkDirection::kUpload;
  if (text == "download") return BulkDirection::kDownload;
  return absl::InvalidArgumentError(
      absl::StrCat("--direction: expected upload or download, got \"", std::string(text), "\""));
}

std::string BulkDirectionName(BulkDirection direction) {
  return direction == BulkDirection::kUpload ? "upload" : "download";
}

absl::Status ValidateClientOptions(const ClientOptions& o) {
  if (o.target.length() == 0) return absl::InvalidArgumentError("--target: required (IP:PORT)");
  if (o.connections < 1 || o.connections > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("--connections: expected 1..4096, got ", o.connections));
  }
  if (o.size > kMaxMessageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("--size: at most ", kMaxMessageSize, " bytes (16 MiB), got ", o.size));
  }
  if (o.scenario != Scenario::kBulk && o.size == 0) {
    // The answer is what is timed: a request without one would measure nothing.
    return absl::InvalidArgumentError("--size: at least 1 byte for rr and connrate");
  }
  if (o.duration_ns <= 0) return absl::InvalidArgumentError("--duration: must be > 0 seconds");
  if (o.warmup_ns < 0) return absl::InvalidArgumentError("--warmup: must be >= 0 seconds");
  if (o.request_timeout_ns <= 0) return absl::InvalidArgumentError("--timeout-ms: must be > 0");
  if (o.scenario == Scenario::kRequestResponse && !o.closed_loop && !(o.rate > 0)) {
    return absl::InvalidArgumentError("rr: give --rate R (open loop) or --closed");
  }
  if (o.scenario == Scenario::kRequestResponse && !o.closed_loop && o.rate > 1e8) {
    return absl::InvalidArgumentError(absl::StrCat("--rate: at most 1e8 requests/s, got ", o.rate));
  }
  return absl::OkStatus();
}

}  // namespace weft::loadgen
