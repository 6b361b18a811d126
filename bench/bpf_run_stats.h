// Kernel BPF run-time statistics: the per-program run_time_ns / run_cnt the kernel
// keeps while BPF_ENABLE_STATS(BPF_STATS_RUN_TIME) is held (what sysctl
// kernel.bpf_stats_enabled=1 turns on), read from bpf_prog_info. The cost of a hook
// per call is the delta of run_time_ns over the delta of run_cnt around a workload.
#pragma once

#include <bpf/bpf.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace weft::bench {

// Stats are collected while this object lives (the kernel counts holders of the fd,
// so another holder keeps them on too; they are never turned off under someone).
class BpfRunTimeStats {
 public:
  static absl::StatusOr<std::unique_ptr<BpfRunTimeStats>> Enable();
  ~BpfRunTimeStats();
  BpfRunTimeStats(const BpfRunTimeStats&) = delete;
  BpfRunTimeStats& operator=(const BpfRunTimeStats&) = delete;

 private:
  explicit BpfRunTimeStats(int fd) : fd_(fd) {}
  int fd_;
};

struct ProgramRunStats {
  uint64_t run_time_ns = 0;
  uint64_t run_cnt = 0;
};

// One program attached directly at a cgroup, held by fd so that its id cannot be
// reused while we read it.
class CgroupProgram {
 public:
  // The single program attached at `cgroup_fd` for `type` whose name starts with
  // `name_prefix` (kernel names are cut at 15 characters).
  static absl::StatusOr<std::unique_ptr<CgroupProgram>> Find(int cgroup_fd, bpf_attach_type type,
                                                             const std::string& name_prefix);
  ~CgroupProgram();
  CgroupProgram(const CgroupProgram&) = delete;
  CgroupProgram& operator=(const CgroupProgram&) = delete;

  absl::StatusOr<ProgramRunStats> Read() const;
  const std::string& name() const { return name_; }

 private:
  CgroupProgram(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  int fd_;
  std::string name_;
};

}  // namespace weft::bench
