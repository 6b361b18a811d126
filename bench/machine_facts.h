// What a benchmark result was measured on: every result file carries these facts,
// because the numbers mean nothing away from the machine that produced them.
#pragma once

#include <string>

namespace weft::bench {

struct MachineFacts {
  int cores = 0;               // online CPUs
  std::string kernel;          // uname -r
  std::string kernel_version;  // uname -v
  std::string arch;            // uname -m
  std::string cpu_model;       // /proc/cpuinfo "model name" (or "unknown")
  std::string date_utc;        // ISO 8601, when the run started
  double loadavg_1m = 0;       // /proc/loadavg at start: a busy machine skews everything
  // net.ipv4.tcp_congestion_control of the bench's netns, which lab netns inherit when
  // created: on the 2-core VM, bbr's pacing halves direct veth throughput against cubic.
  std::string tcp_congestion_control;
};

MachineFacts CollectMachineFacts();

}  // namespace weft::bench
