// What `weftctl bench` can run: the scenarios (what load, how it is measured) and the
// modes (what sits between the client and the server). Both lists are data, so the
// runner, the result files and `--help` all describe the same thing.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace weft::bench {

enum class ScenarioKind { kRequestResponse, kConnectionRate, kBulk };

struct ScenarioSpec {
  std::string name;  // "rr_1KiB_c16"
  ScenarioKind kind;
  int size = 0;         // request (and response) bytes; bulk: unused
  int connections = 1;  // concurrent connections (connrate: concurrent workers)
  // rr: the fixed request rate of the open-loop latency run (requests/s over all
  // connections); low enough that every mode sustains it, so latency is compared at equal
  // load. Its maximum rate comes from a separate closed-loop run.
  int open_loop_rate = 0;
  std::string description;
};

// Durations of one measurement; the default suite and --quick differ only here.
struct RunDurations {
  double open_loop_s = 0;  // rr latency window
  double closed_s = 0;     // rr max rate, connrate and bulk windows
  double warmup_s = 0;     // inside every loadgen run, not counted
  double hop_trace_s = 0;  // per-hop trace of rr_1KiB_c1, per mode
  int repetitions = 0;     // measured rounds
  int warmup_rounds = 0;   // whole rounds run first and discarded
};

struct ModeSpec {
  std::string name;         // "mesh"
  std::string description;  // what the path includes, for the result files
};

const std::vector<ScenarioSpec>& AllScenarios();
const std::vector<ModeSpec>& AllModes();
RunDurations DurationsFor(bool quick);

// `names` as given on the command line (empty: all), checked against the catalog and
// returned in catalog order. An unknown name is an error that lists the valid ones.
absl::StatusOr<std::vector<ScenarioSpec>> SelectScenarios(const std::vector<std::string>& names);
absl::StatusOr<std::vector<ModeSpec>> SelectModes(const std::vector<std::string>& names);

std::string KindName(ScenarioKind kind);

}  // namespace weft::bench
