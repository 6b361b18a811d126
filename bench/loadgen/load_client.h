// The client entry point: runs the scenario `options` names and returns its report.
// Errors of the run itself (refused connects, resets, timeouts) are in the report; a
// non-OK status means the run could not happen at all (bad options, no epoll).
#pragma once

#include "absl/status/statusor.h"
#include "bench/loadgen/client_options.h"
#include "bench/loadgen/run_report.h"

namespace weft::loadgen {

absl::StatusOr<RunReport> RunClient(const ClientOptions& options);

}  // namespace weft::loadgen
