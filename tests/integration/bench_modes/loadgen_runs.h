// weft-loadgen as the bench_modes tests drive it: an echo server left running in a pod
// (killed and reaped on destruction) and one rr client run whose JSON report is parsed.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace weft::bench::modes::testing {

class LoadgenServer {
 public:
  // `weft-loadgen server --listen LISTEN --mode echo --netns NETNS [--cgroup CGROUP]`;
  // waits (5 s) for its "listening" line. nullptr and `*error` set when it does not come.
  static std::unique_ptr<LoadgenServer> Start(const std::string& listen,
                                              const std::string& netns_path,
                                              const std::string& cgroup, std::string* error);
  ~LoadgenServer();
  LoadgenServer(const LoadgenServer&) = delete;
  LoadgenServer& operator=(const LoadgenServer&) = delete;

 private:
  explicit LoadgenServer(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

struct RrRun {
  int exit_code = -1;
  double count = 0;        // requests answered in the measured window
  double error_total = 0;  // failures of every kind
  double p50_us = 0;       // latency_ns.p50 in microseconds
  double p99_us = 0;
  std::string raw;  // stdout + stderr, for failure messages
};

// One closed-loop rr run of 1 KiB on one connection (1 s after 0.2 s warm-up) from inside
// `netns_path`. Without `cgroup` weft's connect4 capture does not see it; with the pod's
// cgroup it does (the `mesh` mode).
RrRun RunRrClient(const std::string& target, const std::string& netns_path,
                  const std::string& cgroup = "");

}  // namespace weft::bench::modes::testing
