// The rr and connrate scenarios: framed request/response exchanges (wire_framing.h) driven
// from one epoll thread over `connections` slots.
//
// rr, open loop (--rate R): request i of the run is due at t0 + i/R, and slot k sends
// requests k, k+C, k+2C, ... so the aggregate rate is R whatever C is. A request whose due
// time has passed (its slot was still waiting for the previous answer, or reconnecting) is
// sent at once, and its latency is measured from the due time: queueing behind a stall is
// counted instead of silently dropped (no coordinated omission).
// rr, closed loop (--closed): each slot sends the next request as soon as the previous
// answer is in; latency is measured from the send.
// connrate: each slot loops connect -> send -> receive -> close; latency is the whole cycle.
//
// Only work that starts inside the measured window (after warm-up) is counted. Failures are
// counted by kind and the slot retries after 10 ms; nothing blocks, and the loop exits by
// HardRunLimitNanos() at the latest.
#pragma once

#include "absl/status/statusor.h"
#include "bench/loadgen/client_options.h"
#include "bench/loadgen/run_report.h"

namespace weft::loadgen {

absl::StatusOr<RunReport> RunFramedExchange(const ClientOptions& options);

}  // namespace weft::loadgen
