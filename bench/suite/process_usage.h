// What a mesh process costs while a scenario runs, read from /proc: CPU time (user and
// system, all threads, including io_uring's io-wq workers, which are threads of the
// process) and peak resident memory. The peak is reset before each run (clear_refs "5"),
// so VmHWM afterwards is the peak of that run, not of the process's whole life.
#pragma once

#include <sys/types.h>

#include "absl/status/statusor.h"

namespace weft::bench {

struct CpuSeconds {
  double user = 0;
  double system = 0;
};

absl::StatusOr<CpuSeconds> ReadCpuSeconds(pid_t pid);
absl::Status ResetPeakRss(pid_t pid);
// VmHWM in bytes.
absl::StatusOr<double> ReadPeakRssBytes(pid_t pid);

}  // namespace weft::bench
