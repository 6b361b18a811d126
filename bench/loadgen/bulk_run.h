// The bulk scenario: `connections` TCP streams, each writing zeros as fast as the socket
// takes them (upload, server in `sink` mode) or reading whatever arrives (download, server
// in `source` mode), for warm-up + duration. Bytes moved inside the measured window give
// the aggregate and per-connection MiB/s. A stream that fails is counted and reopened
// after 10 ms; its slot keeps accumulating into the same per-connection figure.
#pragma once

#include "absl/status/statusor.h"
#include "bench/loadgen/client_options.h"
#include "bench/loadgen/run_report.h"

namespace weft::loadgen {

absl::StatusOr<RunReport> RunBulk(const ClientOptions& options);

}  // namespace weft::loadgen
