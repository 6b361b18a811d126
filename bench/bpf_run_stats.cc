#include "bench/bpf_run_stats.h"

#include <errno.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status/errno_status.h"

namespace weft::bench {
namespace {

absl::StatusOr<bpf_prog_info> InfoOf(int fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return ErrnoStatus(errno, "bpf_obj_get_info_by_fd");
  return info;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BpfRunTimeStats>> BpfRunTimeStats::Enable() {
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) return ErrnoStatus(errno, "BPF_ENABLE_STATS(BPF_STATS_RUN_TIME)");
  return std::unique_ptr<BpfRunTimeStats>(new BpfRunTimeStats(fd));
}

BpfRunTimeStats::~BpfRunTimeStats() { close(fd_); }

absl::StatusOr<std::unique_ptr<CgroupProgram>> CgroupProgram::Find(int cgroup_fd,
                                                                   bpf_attach_type type,
                                                                   const std::string& name_prefix) {
  std::vector<uint32_t> ids(64);
  uint32_t count = static_cast<uint32_t>(ids.size()), flags = 0;
  if (bpf_prog_query(cgroup_fd, type, 0, &flags, ids.data(), &count) != 0) {
    return ErrnoStatus(errno, absl::StrCat("bpf_prog_query(attach type ", type, ")"));
  }
  int found = -1;
  std::string found_name;
  for (uint32_t i = 0; i < count; ++i) {
    int fd = bpf_prog_get_fd_by_id(ids[i]);
    if (fd < 0) continue;  // detached meanwhile
    absl::StatusOr<bpf_prog_info> info = InfoOf(fd);
    std::string name = info.ok() ? info->name : "";
    if (!info.ok() || name.rfind(name_prefix, 0) != 0) {
      close(fd);
      continue;
    }
    if (found >= 0) {
      close(fd);
      close(found);
      return absl::FailedPreconditionError(
          absl::StrCat("more than one program named ", name_prefix, "* at attach type ", type));
    }
    found = fd;
    found_name = name;
  }
  if (found < 0) {
    return absl::NotFoundError(absl::StrCat("no program named ", name_prefix,
                                            "* attached for attach type ", type, " (", count,
                                            " attached)"));
  }
  return std::unique_ptr<CgroupProgram>(new CgroupProgram(found, found_name));
}

CgroupProgram::~CgroupProgram() { close(fd_); }

absl::StatusOr<ProgramRunStats> CgroupProgram::Read() const {
  absl::StatusOr<bpf_prog_info> info = InfoOf(fd_);
  if (!info.ok()) return info.status();
  return ProgramRunStats{info->run_time_ns, info->run_cnt};
}

}  // namespace weft::bench
