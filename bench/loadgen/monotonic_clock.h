// CLOCK_MONOTONIC in nanoseconds: every time the load generator schedules or measures is on
// this clock, so a wall-clock step (NTP) can neither stall nor distort a run.
#pragma once

#include <time.h>

#include <cstdint>

namespace weft::loadgen {

inline int64_t MonotonicNanos() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr int64_t kNanosPerMilli = 1'000'000;

}  // namespace weft::loadgen
