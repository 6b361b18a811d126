// Turns the tracer's stream of send/receive events into per-hop latencies. Pure C++:
// the unit tests feed it events by hand, HopTracer feeds it from the BPF ring buffer.
//
// A round trip begins with a send of the client participant and ends with the
// client's next receive. Inside it, consecutive events of the same (participant,
// direction) collapse into the first one (a 1 KiB answer read in two pieces is one
// stage), so a round trip is a sequence of stages, and a hop is the time between two
// consecutive stages. Round trips take different paths now and then (an HTTP/2
// WINDOW_UPDATE, a TLS key update); only those on the most common path, the canonical
// one, are counted per hop, so each hop's histogram measures one thing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/hoptrace/hop_report.h"
#include "bench/loadgen/latency_histogram.h"

namespace weft::hoptrace {

enum class Direction : uint8_t { kSend = 0, kRecv = 1 };

struct HopEvent {
  int64_t ts_ns = 0;  // CLOCK_MONOTONIC
  uint32_t participant = 0;
  Direction direction = Direction::kSend;
  uint32_t bytes = 0;
  uint64_t sock_cookie = 0;
  uint32_t srtt_us = 0;  // 0 = unknown
};

class HopAssembler {
 public:
  // At most this many distinct paths keep histograms; round trips on further paths are
  // only counted (as irregular), which bounds memory on a noisy run.
  static constexpr size_t kMaxTrackedPaths = 16;
  // A round trip with more stages than this is abandoned as irregular.
  static constexpr size_t kMaxStages = 64;

  // `participant_names[i]` names participant i ("client app"); `client` is the index of
  // the participant whose send starts a round trip. 1..8 participants.
  static absl::StatusOr<std::unique_ptr<HopAssembler>> Create(
      std::vector<std::string> participant_names, uint32_t client);

  // Events must come in timestamp order of causally related events (the ring buffer's
  // order); events of unknown participants are ignored.
  void Add(const HopEvent& event);

  // Everything counted since creation. `lost_events` is left 0 (the tracer knows it).
  HopReport Report() const;

 private:
  struct Stage {
    uint32_t participant;
    Direction direction;
    int64_t ts_ns;
  };
  struct PathStats {
    uint64_t count = 0;
    std::vector<loadgen::LatencyHistogram> hops;
    loadgen::LatencyHistogram total;
  };
  // A path as a key: two bytes per stage (participant, direction).
  using PathKey = std::string;

  HopAssembler(std::vector<std::string> participant_names, uint32_t client);
  void Finish();
  std::string StageName(uint32_t participant, Direction direction) const;

  std::vector<std::string> names_;
  uint32_t client_;
  bool open_ = false;
  std::vector<Stage> stages_;
  std::map<PathKey, PathStats> paths_;
  uint64_t untracked_ = 0;
  uint64_t overlapping_ = 0;
  std::vector<loadgen::LatencyHistogram> srtt_;  // per participant, in ns
};

// Converts a histogram's summary (ns) into a report row (µs).
HopStats HopStatsFrom(std::string name, const loadgen::LatencyHistogram& histogram);

}  // namespace weft::hoptrace
