#include "bench/loadgen/process_placement.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/event/scoped_fd.h"
#include "common/status/errno_status.h"

namespace weft::loadgen {

absl::Status JoinCgroup(const std::string& cgroup_dir) {
  const std::string procs = cgroup_dir + "/cgroup.procs";
  event::ScopedFd fd(open(procs.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open", procs);
  const std::string pid = absl::StrCat(getpid());
  if (write(fd.get(), pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) {
    return ErrnoStatus(errno, "write pid to", procs);
  }
  return absl::OkStatus();
}

absl::Status EnterNetns(const std::string& netns_path) {
  event::ScopedFd fd(open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open netns", netns_path);
  if (setns(fd.get(), CLONE_NEWNET) != 0) return ErrnoStatus(errno, "setns", netns_path);
  return absl::OkStatus();
}

absl::Status PinToCpu(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) {
    return absl::InvalidArgumentError(absl::StrCat("--cpu-affinity: no CPU ", cpu));
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    return ErrnoStatus(errno, "sched_setaffinity", absl::StrCat("cpu ", cpu));
  }
  return absl::OkStatus();
}

}  // namespace weft::loadgen
