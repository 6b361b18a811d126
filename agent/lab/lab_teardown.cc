#include "agent/lab/lab_teardown.h"

#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "agent/lab/address_plan.h"
#include "agent/lab/agent_launcher.h"
#include "agent/lab/cgroup_tree.h"
#include "agent/lab/lab_subcommands.h"
#include "common/host/mount_table.h"
#include "agent/lab/network_builder.h"
#include "agent/lab/state_store.h"

namespace weft::lab {
namespace {

using weft::lab::state::v1::LabState;

int RemoveEntry(const char* path, const struct stat*, int, FTW*) {
  return (::remove(path) != 0 && errno != ENOENT) ? -1 : 0;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string LabCgroup(const std::string& lab, const std::optional<LabState>& state) {
  if (state.has_value() && !state->cgroup().empty()) return state->cgroup();
  absl::StatusOr<std::string> mount = host::Cgroup2MountPoint();
  return mount.ok() ? absl::StrCat(*mount, "/", CgroupDirName(lab)) : "";
}

void DeleteNetns(const std::string& lab, const std::optional<LabState>& state,
                 TeardownReport& report) {
  std::set<std::string> names;
  if (state.has_value()) {
    for (const auto& pod : state->pods()) names.insert(pod.netns());
    for (const auto& node : state->nodes()) names.insert(node.netns());
    if (!state->fabric_netns().empty()) names.insert(state->fabric_netns());
  }
  // Whatever the state file says, a namespace with the lab's prefix is the lab's.
  absl::StatusOr<std::vector<std::string>> found = ListNetns(NetnsPrefix(lab));
  if (found.ok()) {
    names.insert(found->begin(), found->end());
  } else {
    report.problems.push_back(std::string(found.status().message()));
  }
  for (const std::string& name : names) {
    if (!Exists(NetnsPath(name))) continue;
    absl::Status s = RunIp({"netns", "del", name});
    if (s.ok()) {
      report.removed.push_back("netns " + name);
    } else {
      report.problems.push_back(std::string(s.message()));
    }
  }
}

void RemoveBpffsPins(const std::string& lab, const std::optional<LabState>& state,
                     TeardownReport& report) {
  std::string bpffs = state.has_value() ? state->bpffs() : "";
  if (bpffs.empty()) {
    absl::StatusOr<std::string> mount = host::FindMountOfType("bpf");
    if (!mount.ok()) return;  // no bpffs mounted: nothing can be pinned
    bpffs = *mount;
  }
  const std::string dir = bpffs + "/weft";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> pins;
  while (dirent* entry = ::readdir(d)) {
    if (absl::StartsWith(entry->d_name, InstancePrefix(lab))) {
      pins.push_back(absl::StrCat(dir, "/", entry->d_name));
    }
  }
  ::closedir(d);
  for (const std::string& pin : pins) {
    if (::nftw(pin.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
      report.problems.push_back(
          absl::StrCat("remove bpffs pins ", pin, ": ", std::strerror(errno)));
    } else {
      report.removed.push_back("bpffs " + pin);
    }
  }
}

}  // namespace

void StopAgentsGracefully(const LabState& state, int grace_ms) {
  std::vector<pid_t> running;
  for (const auto& node : state.nodes()) {
    if (IsSameProcess(node.agent_pid(), node.agent_start_time())) {
      ::kill(node.agent_pid(), SIGTERM);
      running.push_back(node.agent_pid());
    }
    if (IsSameProcess(node.ztunnel().pid(), node.ztunnel().start_time())) {
      ::kill(node.ztunnel().pid(), SIGTERM);
      running.push_back(node.ztunnel().pid());
    }
  }
  absl::Time deadline = absl::Now() + absl::Milliseconds(grace_ms);
  while (!running.empty() && absl::Now() < deadline) {
    std::erase_if(running, [](pid_t pid) { return !IsSameProcess(pid, 0); });
    ::usleep(20 * 1000);
  }
}

TeardownReport TeardownLab(const std::string& lab, const std::optional<LabState>& state) {
  TeardownReport report;
  const std::string cgroup = LabCgroup(lab, state);
  // Processes first: a live process keeps its network namespace alive after
  // `ip netns del`, and keeps its cgroup from being removed. A pod sandbox lives in its
  // pod's cgroup, but one moved out of it would still pin the pod's netns.
  if (state.has_value()) {
    for (const auto& pod : state->pods()) {
      if (pod.sandbox_start_time() != 0 &&
          IsSameProcess(pod.sandbox_pid(), pod.sandbox_start_time())) {
        ::kill(pod.sandbox_pid(), SIGKILL);
      }
    }
  }
  if (!cgroup.empty() && Exists(cgroup)) {
    if (absl::Status s = KillCgroupTree(cgroup, absl::Seconds(5)); !s.ok()) {
      report.problems.push_back(std::string(s.message()));
    }
  }
  DeleteNetns(lab, state, report);
  if (!cgroup.empty() && Exists(cgroup)) {
    if (absl::Status s = RemoveCgroupTree(cgroup); s.ok()) {
      report.removed.push_back("cgroup " + cgroup);
    } else {
      report.problems.push_back(std::string(s.message()));
    }
  }
  RemoveBpffsPins(lab, state, report);
  return report;
}

namespace {

using weft::lab::state::v1::LabState;

// The supervisor tears down on SIGTERM; give it that long before killing it.
constexpr absl::Duration kSupervisorGrace = absl::Seconds(20);

bool WaitForExit(pid_t pid, uint64_t start_time, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (IsSameProcess(pid, start_time)) {
    if (absl::Now() > deadline) return false;
    ::usleep(20 * 1000);
  }
  return true;
}

void StopSupervisor(const LabState& state) {
  pid_t pid = state.supervisor_pid();
  uint64_t start = state.supervisor_start_time();
  if (!IsSameProcess(pid, start)) return;
  ::kill(pid, SIGTERM);
  if (WaitForExit(pid, start, kSupervisorGrace)) return;
  std::fprintf(stderr, "weftctl lab down: supervisor pid %d did not stop in %s; killing it\n", pid,
               absl::FormatDuration(kSupervisorGrace).c_str());
  ::kill(pid, SIGKILL);
  WaitForExit(pid, start, absl::Seconds(5));
}

// True while `pid` with `start_time` is in the process table, even as a zombie.
bool InProcessTable(pid_t pid, uint64_t start_time) {
  if (pid <= 0 || start_time == 0) return false;
  absl::StatusOr<uint64_t> start = ProcessStartTime(pid);
  return start.ok() && *start == start_time;
}

// After `kill -9` of the supervisor its dead agents and sandboxes are zombies until init
// reaps them; waiting a little keeps `pgrep weft-pause` after `down` from showing them.
// Not an error when it takes longer: they hold nothing any more.
void WaitForZombies(const LabState& state, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  auto any_left = [&] {
    for (const auto& pod : state.pods()) {
      if (InProcessTable(pod.sandbox_pid(), pod.sandbox_start_time())) return true;
    }
    for (const auto& node : state.nodes()) {
      if (InProcessTable(node.agent_pid(), node.agent_start_time())) return true;
    }
    return false;
  };
  while (any_left() && absl::Now() < deadline) ::usleep(20 * 1000);
}

}  // namespace

// `weftctl lab down [--name LAB]`: stops the supervisor if it runs, then removes
// whatever of the lab is left — also after `kill -9` or a crash in the middle of `up`.
int RunLabDown(const std::vector<std::string>& args) {
  absl::StatusOr<LabArgs> parsed = ParseLabArgs(args, {"--name"}, {});
  if (!parsed.ok()) return ReportFailure("down", parsed.status());
  if (!parsed->positional.empty() || parsed->has_command) {
    return ReportFailure("down",
                         absl::InvalidArgumentError("usage: weftctl lab down [--name LAB]"));
  }
  absl::StatusOr<std::string> lab = ResolveLabName(parsed->Flag("--name"));
  if (!lab.ok()) return ReportFailure("down", lab.status());

  std::optional<LabState> state;
  if (absl::StatusOr<LabState> loaded = LoadState(*lab); loaded.ok()) {
    state = std::move(*loaded);
    StopSupervisor(*state);
  } else if (!absl::IsNotFound(loaded.status())) {
    // A torn state file must not stop the cleanup: the scan below finds the rest.
    std::fprintf(stderr, "weftctl lab down: ignoring unreadable state: %s\n",
                 std::string(loaded.status().message()).c_str());
  }

  // Hold the lab lock while removing, so a concurrent `up` cannot start in between.
  std::optional<FileLock> lock;
  if (StateDirExists(*lab)) {
    absl::StatusOr<FileLock> acquired = FileLock::Acquire(LabLockPath(*lab), /*wait=*/false);
    if (absl::IsResourceExhausted(acquired.status())) {
      return ReportFailure("down", absl::UnavailableError(
                                       absl::StrCat("lab ", *lab, " is held by another weftctl (",
                                                    LabLockPath(*lab), " is locked); try again")));
    }
    if (acquired.ok()) lock = std::move(*acquired);
  }
  bool had_state_dir = StateDirExists(*lab);
  TeardownReport report = TeardownLab(*lab, state);
  if (state.has_value()) WaitForZombies(*state, absl::Seconds(3));
  if (absl::Status s = RemoveStateDir(*lab); !s.ok())
    report.problems.push_back(std::string(s.message()));
  if (!report.problems.empty()) {
    return ReportFailure(
        "down", absl::InternalError(absl::StrCat(
                    "lab ", *lab, " not fully removed: ", absl::StrJoin(report.problems, "; "))));
  }
  if (!state.has_value() && !had_state_dir && report.removed.empty()) {
    std::printf("lab %s does not exist; nothing to do\n", lab->c_str());
  } else {
    std::printf("lab %s removed\n", lab->c_str());
  }
  return 0;
}

}  // namespace weft::lab
