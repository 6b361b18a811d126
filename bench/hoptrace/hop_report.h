// What the per-hop tracer reports: one row per hop of the canonical path plus the whole
// round trip, in microseconds, shaped so the bench suite can copy the rows into its
// results table as they are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::hoptrace {

struct HopStats {
  std::string name;  // "client app send → client ztunnel recv", or "total"
  uint64_t count = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double mean_us = 0;
};

// The smoothed RTT (tcp_sock.srtt_us) of a participant's sockets, sampled at each of
// its sends and receives: the kernel's own view of the wire, next to the hop times.
struct SrttStats {
  std::string participant;
  uint64_t samples = 0;
  double p50_us = 0;
  double p99_us = 0;
};

struct HopReport {
  std::vector<HopStats> hops;     // in path order
  HopStats total;                 // first client send → client receive
  uint64_t round_trips = 0;       // complete round trips on the canonical path
  uint64_t irregular = 0;         // complete round trips on another path
  uint64_t overlapping = 0;       // discarded: the client sent again before the answer
  uint64_t lost_events = 0;       // the kernel found the ring buffer full
  std::vector<std::string> path;  // the canonical path's stages, "client app send", ...
  std::vector<SrttStats> srtt;    // one per participant with samples
};

// A fixed-width table: hop, count, p50/p90/p99/p99.9/mean µs, then the counters.
std::string FormatHopTable(const HopReport& report);
// One JSON object (no trailing newline).
std::string HopReportJson(const HopReport& report);

}  // namespace weft::hoptrace
