// One run of the weft-loadgen client as a child process (bench/loadgen/README.md), and
// the long-lived weft-loadgen servers the suite measures against. The suite never links
// the generator: the client runs in its own process, placed in a pod's cgroup and netns
// by its own --cgroup/--netns flags, exactly as a workload would be.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weft::bench {

struct LoadgenSummary {
  uint64_t count = 0;  // requests, cycles, or (bulk) writes
  double rate = 0;     // count per second of the measured window
  double duration_s = 0;
  double throughput_mib_s = 0;
  double bytes = 0;  // payload bytes moved in the window (throughput × duration)
  // rr / connrate, µs, from the intended send time in open loop.
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0;
  // From the actual send (what a closed-loop tool reports), µs.
  double service_p50_us = 0, service_p90_us = 0, service_p99_us = 0, service_p999_us = 0;
  uint64_t error_total = 0;
  std::map<std::string, uint64_t> errors;
};

// Parses the client's --json object.
absl::StatusOr<LoadgenSummary> ParseLoadgenJson(const std::string& json);

// Runs `binary client args...`, waits at most `timeout`, and parses its JSON.
// `on_started` runs in the parent right after the fork with the child's pid (the
// per-hop tracer follows the client by pid). Exit status or JSON problems are errors
// that carry the child's stderr.
absl::StatusOr<LoadgenSummary> RunLoadgenClient(const std::string& binary,
                                                const std::vector<std::string>& args,
                                                absl::Duration timeout,
                                                const std::function<void(pid_t)>& on_started = {});

// A `weft-loadgen server` child, up until destroyed (SIGTERM, then reaped).
class LoadgenServer {
 public:
  // Starts and waits for its "listening" line (5 s).
  static absl::StatusOr<std::unique_ptr<LoadgenServer>> Start(const std::string& binary,
                                                              const std::vector<std::string>& args);
  ~LoadgenServer();
  LoadgenServer(const LoadgenServer&) = delete;
  LoadgenServer& operator=(const LoadgenServer&) = delete;
  pid_t pid() const { return pid_; }

 private:
  LoadgenServer(pid_t pid, int stdout_fd, int stderr_fd)
      : pid_(pid), stdout_fd_(stdout_fd), stderr_fd_(stderr_fd) {}
  pid_t pid_;
  // Kept open (unread) until the server is gone: it writes one line to each at exit.
  int stdout_fd_;
  int stderr_fd_;
};

}  // namespace weft::bench
