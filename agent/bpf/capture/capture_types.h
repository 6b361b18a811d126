// Plain C++ views of the capture family's configuration and state, so callers of
// CaptureProgram never see the kernel ABI structs of bpf/capture.h.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bpf/capture.h"

struct bpf_map;

namespace weft::bpf::capture {

struct CaptureOptions {
  // cgroup2 directory connect4/connect6/sockops attach to; covers every pod.
  std::string cgroup_root;
  // cgroup2 directory holding ztunnel (getsockopt attaches there); empty = cgroup_root.
  std::string getsockopt_cgroup;
  // bpffs directory owned by this agent instance: <pin_dir>/maps, <pin_dir>/links.
  std::string pin_dir;
  uint16_t outbound_port = CAPTURE_DEFAULT_OUTBOUND_PORT;
  // SO_MARK carried by ztunnel's own sockets, which are never captured; 0 = none.
  uint32_t ztunnel_mark = 0;
};

// What connect4/connect6 need to know about one enrolled pod netns.
struct CaptureWorkload {
  uint32_t workload_id = 0;  // < CAPTURE_MAX_WORKLOADS, index of its counters
  std::optional<in_addr> pod_ipv4;
  std::optional<in6_addr> pod_ipv6;
};

using Histogram = std::array<uint64_t, CAPTURE_HIST_BUCKETS>;

// Sum over CPUs of one workload's capture_stats.
struct WorkloadStats {
  uint64_t captured = 0;
  uint64_t passed = 0;
  uint64_t denied = 0;
  uint64_t errors = 0;
  Histogram connect_latency_ns{};  // bucket i: floor(log2(ns)) == i
  Histogram srtt_us{};             // bucket i: floor(log2(us)) == i
};

// One orig_dst entry, decoded for debugging (weftctl bpf maps).
struct EnrolledNetnsEntry {
  uint64_t netns_cookie = 0;
  uint32_t workload_id = 0;
};

struct PolicyMapHandles {
  struct bpf_map* dst_v4 = nullptr;
  struct bpf_map* dst_v6 = nullptr;
  struct bpf_map* verdicts = nullptr;
};

struct PolicyDenials {
  uint32_t workload_id = 0;
  uint32_t policy_id = 0;  // the policy compiler's id (1-based)
  uint64_t count = 0;
};

struct OrigDstEntry {
  uint64_t netns_cookie = 0;
  std::string client;        // "ip:port" / "[ip6]:port"
  std::string original_dst;  // "ip:port" / "[ip6]:port"
  uint32_t workload_id = 0;
};

}  // namespace weft::bpf::capture
