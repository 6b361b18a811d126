#include "agent/lab/cgroup_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/config/document_parser.h"
#include "common/status/errno_status.h"

namespace weft::lab {
namespace {

absl::Status WriteControlFile(const std::string& path, absl::string_view value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", path));
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n < 0) return ErrnoStatus(err, absl::StrCat("write \"", value, "\" to ", path));
  return absl::OkStatus();
}

// Child cgroup directories of `path`; empty when `path` is gone.
std::vector<std::string> ChildCgroups(const std::string& path) {
  std::vector<std::string> children;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return children;
  while (dirent* entry = ::readdir(dir)) {
    absl::string_view name = entry->d_name;
    if (entry->d_type == DT_DIR && name != "." && name != "..") {
      children.push_back(absl::StrCat(path, "/", name));
    }
  }
  ::closedir(dir);
  return children;
}

void CollectPids(const std::string& path, std::vector<pid_t>& pids) {
  absl::StatusOr<std::string> procs = weft::config::ReadFileToString(path + "/cgroup.procs");
  if (procs.ok()) {
    for (absl::string_view line : absl::StrSplit(*procs, '\n', absl::SkipEmpty())) {
      int pid = 0;
      if (absl::SimpleAtoi(line, &pid) && pid > 0) pids.push_back(pid);
    }
  }
  for (const std::string& child : ChildCgroups(path)) CollectPids(child, pids);
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

absl::Status CreateCgroup(const std::string& path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, absl::StrCat("mkdir cgroup ", prefix));
    }
  }
  return absl::OkStatus();
}

absl::Status JoinCgroup(const std::string& path, pid_t pid) {
  return WriteControlFile(path + "/cgroup.procs", absl::StrCat(pid));
}

absl::StatusOr<std::vector<pid_t>> PidsInCgroupTree(const std::string& path) {
  std::vector<pid_t> pids;
  if (!Exists(path)) return pids;
  CollectPids(path, pids);
  return pids;
}

absl::Status SignalCgroupTree(const std::string& path, int signal) {
  absl::StatusOr<std::vector<pid_t>> pids = PidsInCgroupTree(path);
  if (!pids.ok()) return pids.status();
  for (pid_t pid : *pids) {
    if (::kill(pid, signal) != 0 && errno != ESRCH) {
      return ErrnoStatus(errno, absl::StrCat("kill(", pid, ", ", signal, ") in cgroup ", path));
    }
  }
  return absl::OkStatus();
}

absl::Status KillCgroupTree(const std::string& path, absl::Duration timeout) {
  if (!Exists(path)) return absl::OkStatus();
  absl::Time deadline = absl::Now() + timeout;
  // cgroup.kill (Linux 5.14+) kills the whole subtree atomically, including processes
  // forked while we look; the per-pid loop is the fallback for older kernels.
  bool have_kill_file = WriteControlFile(path + "/cgroup.kill", "1").ok();
  while (true) {
    absl::StatusOr<std::vector<pid_t>> pids = PidsInCgroupTree(path);
    if (!pids.ok()) return pids.status();
    if (pids->empty()) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("cgroup ", path, " still has ", pids->size(),
                                                      " processes (first pid ", (*pids)[0],
                                                      ") after ", absl::FormatDuration(timeout)));
    }
    if (!have_kill_file) {
      for (pid_t pid : *pids) ::kill(pid, SIGKILL);
    }
    ::usleep(20 * 1000);
  }
}

absl::Status RemoveCgroupTree(const std::string& path) {
  if (!Exists(path)) return absl::OkStatus();
  for (const std::string& child : ChildCgroups(path)) {
    if (absl::Status s = RemoveCgroupTree(child); !s.ok()) return s;
  }
  // A cgroup whose last process just exited can report EBUSY for a moment.
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
    if (errno != EBUSY || attempt >= 100) {
      return ErrnoStatus(errno, absl::StrCat("rmdir cgroup ", path));
    }
    ::usleep(20 * 1000);
  }
}

}  // namespace weft::lab
