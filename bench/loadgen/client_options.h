// What one client run does: the scenario, its load shape and its bounds. Validated once at
// the edge (ValidateClientOptions), so the run loops can trust every field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/event/socket_address.h"

namespace weft::loadgen {

enum class Scenario {
  kRequestResponse,  // "rr": framed request/response on long-lived connections
  kConnectionRate,   // "connrate": connect, one exchange, close, repeat
  kBulk,             // "bulk": one-way streaming
};
absl::StatusOr<Scenario> ParseScenario(std::string_view text);
std::string ScenarioName(Scenario scenario);

enum class BulkDirection {
  kUpload,    // client writes, server in `sink` mode
  kDownload,  // client reads, server in `source` mode
};
absl::StatusOr<BulkDirection> ParseBulkDirection(std::string_view text);
std::string BulkDirectionName(BulkDirection direction);

struct ClientOptions {
  event::SocketAddress target;
  Scenario scenario = Scenario::kRequestResponse;
  uint32_t size = 1024;  // request and response payload bytes (rr, connrate)
  int connections = 1;   // connections (rr, bulk) or concurrent workers (connrate)
  // rr only: aggregate requests/s over all connections (open loop). Ignored when
  // closed_loop is set; connrate is always closed loop.
  double rate = 0;
  bool closed_loop = false;
  int64_t duration_ns = int64_t{10} * 1'000'000'000;
  int64_t warmup_ns = int64_t{1} * 1'000'000'000;
  int64_t request_timeout_ns = int64_t{2} * 1'000'000'000;
  BulkDirection direction = BulkDirection::kUpload;
};

absl::Status ValidateClientOptions(const ClientOptions& options);

// The run stops issuing work at warmup + duration and gives in-flight work one request
// timeout to finish; past this (plus a second of slack) the loop exits whatever happens.
inline int64_t HardRunLimitNanos(const ClientOptions& options) {
  return options.warmup_ns + options.duration_ns + options.request_timeout_ns + 1'000'000'000;
}

}  // namespace weft::loadgen
