#include "ztunnel/heap_policy.h"

#include <malloc.h>

namespace weft::ztunnel {
namespace {

constexpr int kMmapThreshold = 16 << 20;
constexpr int kBusyTrimThreshold = 64 << 20;
constexpr int kIdleTrimThreshold = 128 << 10;  // glibc's default

}  // namespace

void KeepHeapWhileBusy() {
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, kBusyTrimThreshold);
}

void ReleaseIdleHeap() {
  mallopt(M_TRIM_THRESHOLD, kIdleTrimThreshold);
  malloc_trim(0);
  mallopt(M_TRIM_THRESHOLD, kBusyTrimThreshold);
}

}  // namespace weft::ztunnel
