// Runs hoptrace.bpf.c: loads and attaches its two BTF tracepoint programs, tells the kernel
// who the participants are, and drains the ring buffer into a HopAssembler from a poll
// thread until Stop(). Needs root (CAP_BPF + CAP_PERFMON). The programs see every TCP
// send and receive on the machine; all but the participants' are dropped in the kernel.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/hoptrace/hop_assembler.h"
#include "bench/hoptrace/hop_report.h"

struct hoptrace;
struct ring_buffer;

namespace weft::hoptrace {

// One process (or set of processes) a request passes through. An event matches when
// the sending/receiving task's tgid is in `tgids` or its cgroup v2 id is in
// `cgroup_ids`, and — when `netns_inode` is set — the socket lives in that network
// namespace (a ztunnel serves many pods from one process; the netns says which pod).
struct HopParticipant {
  std::string name;  // "client app", "client ztunnel", ...
  std::vector<uint32_t> tgids;
  std::vector<uint64_t> cgroup_ids;  // CgroupIdOf(dir)
  uint64_t netns_inode = 0;          // NetnsInodeOf(path); 0 = any
};

struct HopTraceSpec {
  // participants[0] is the client app: its send starts a round trip. 1..8 entries.
  std::vector<HopParticipant> participants;
  absl::Duration poll_interval = absl::Milliseconds(100);
};

// The cgroup v2 id of a cgroup directory (its inode number, what
// bpf_get_current_cgroup_id returns for a task in it).
absl::StatusOr<uint64_t> CgroupIdOf(const std::string& cgroup_dir);
// The inode number of a network namespace file (/run/netns/NAME, /proc/PID/ns/net).
absl::StatusOr<uint64_t> NetnsInodeOf(const std::string& netns_path);

class HopTracer {
 public:
  static absl::StatusOr<std::unique_ptr<HopTracer>> Start(const HopTraceSpec& spec);
  ~HopTracer();  // Stop()s if still running
  HopTracer(const HopTracer&) = delete;
  HopTracer& operator=(const HopTracer&) = delete;

  // Everything assembled so far; the tracer keeps running.
  HopReport Snapshot();
  // Detaches, drains what is left in the ring buffer and returns the final report.
  // Later calls return the same report.
  HopReport Stop();

 private:
  HopTracer(::hoptrace* skel, std::unique_ptr<HopAssembler> assembler, absl::Duration poll);
  absl::Status Configure(const HopTraceSpec& spec);
  absl::Status Attach();
  void PollLoop();
  static int OnEvent(void* context, void* data, size_t size);
  uint64_t LostEvents() const;

  ::hoptrace* skel_;
  ::ring_buffer* ring_ = nullptr;
  absl::Duration poll_interval_;
  std::mutex mu_;  // guards assembler_ and malformed_
  std::unique_ptr<HopAssembler> assembler_;
  uint64_t malformed_ = 0;
  std::mutex wake_mu_;  // guards stop_
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread poller_;
  bool stopped_ = false;
  HopReport final_;
};

}  // namespace weft::hoptrace
