#include "agent/lab/network_builder.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "agent/lab/address_plan.h"
#include "common/status/errno_status.h"

namespace weft::lab {
namespace {

using weft::lab::state::v1::LabState;
using weft::lab::state::v1::NodeState;

absl::Status RunAll(const std::vector<std::vector<std::string>>& commands) {
  for (const auto& args : commands) {
    if (absl::Status s = RunIp(args); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string Alias(const LabState& plan) { return CgroupDirName(plan.name()); }

const NodeState* FindNode(const LabState& plan, const std::string& name) {
  for (const auto& node : plan.nodes()) {
    if (node.name() == name) return &node;
  }
  return nullptr;
}

// Position of a pod among the pods of its node: its veth's name on the node side.
int PodSlot(const LabState& plan, int pod_index) {
  int slot = 0;
  for (int i = 0; i < pod_index; ++i) {
    if (plan.pods(i).node() == plan.pods(pod_index).node()) ++slot;
  }
  return slot;
}

std::string PrefixLength(const std::string& cidr) { return cidr.substr(cidr.find('/')); }

}  // namespace

absl::Status BuildFabric(const LabState& plan) {
  const std::string& fabric = plan.fabric_netns();
  return RunAll({
      {"netns", "add", fabric},
      {"-n", fabric, "link", "set", "lo", "up"},
      {"-n", fabric, "link", "add", kFabricBridge, "type", "bridge"},
      {"-n", fabric, "link", "set", kFabricBridge, "alias", Alias(plan), "up"},
  });
}

absl::Status BuildNode(const LabState& plan, int node_index) {
  const NodeState& node = plan.nodes(node_index);
  const std::string& ns = node.netns();
  const std::string fabric_port = absl::StrCat("n", node_index);
  absl::Status status = RunAll({
      {"netns", "add", ns},
      {"-n", ns, "link", "set", "lo", "up"},
      {"-n", plan.fabric_netns(), "link", "add", fabric_port, "type", "veth", "peer", "name",
       kUnderlayDevice, "netns", ns},
      {"-n", plan.fabric_netns(), "link", "set", fabric_port, "master", kFabricBridge, "alias",
       Alias(plan), "up"},
      {"-n", ns, "addr", "add", node.underlay_ip() + PrefixLength(plan.node_cidr()), "dev",
       kUnderlayDevice},
      {"-n", ns, "link", "set", kUnderlayDevice, "alias", Alias(plan), "up"},
      {"-n", ns, "link", "add", kPodBridge, "type", "bridge"},
      {"-n", ns, "addr", "add", node.bridge_ip() + PrefixLength(node.pod_cidr()), "dev",
       kPodBridge},
      {"-n", ns, "link", "set", kPodBridge, "alias", Alias(plan), "up"},
  });
  if (!status.ok()) return status;
  // The node routes between its pods and the other nodes, as a real node would.
  return WriteSysctlInNetns(ns, "net/ipv4/ip_forward", "1");
}

absl::Status BuildNodeRoutes(const LabState& plan, int node_index) {
  const NodeState& node = plan.nodes(node_index);
  std::vector<std::vector<std::string>> commands;
  for (const auto& other : plan.nodes()) {
    if (other.name() == node.name()) continue;
    commands.push_back({"-n", node.netns(), "route", "add", other.pod_cidr(), "via",
                        other.underlay_ip(), "dev", kUnderlayDevice});
  }
  return RunAll(commands);
}

absl::Status BuildPod(const LabState& plan, int pod_index) {
  const auto& pod = plan.pods(pod_index);
  const NodeState* node = FindNode(plan, pod.node());
  if (node == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("pod ", pod.name(), ": unknown node"));
  }
  const std::string node_port = absl::StrCat("p", PodSlot(plan, pod_index));
  const std::string& ns = pod.netns();
  return RunAll({
      {"netns", "add", ns},
      {"-n", ns, "link", "set", "lo", "up"},
      {"-n", node->netns(), "link", "add", node_port, "type", "veth", "peer", "name", kPodDevice,
       "netns", ns},
      {"-n", node->netns(), "link", "set", node_port, "master", kPodBridge, "alias", Alias(plan),
       "up"},
      {"-n", ns, "addr", "add", pod.ip() + PrefixLength(node->pod_cidr()), "dev", kPodDevice},
      {"-n", ns, "link", "set", kPodDevice, "alias", Alias(plan), "up"},
      {"-n", ns, "route", "add", "default", "via", node->bridge_ip()},
  });
}

namespace {

constexpr char kNetnsDir[] = "/run/netns";

}  // namespace

std::string NetnsPath(absl::string_view name) { return absl::StrCat(kNetnsDir, "/", name); }

absl::StatusOr<std::vector<std::string>> ListNetns(absl::string_view prefix) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(kNetnsDir);
  if (dir == nullptr) {
    if (errno == ENOENT) return names;
    return ErrnoStatus(errno, absl::StrCat("opendir ", kNetnsDir));
  }
  while (dirent* entry = ::readdir(dir)) {
    absl::string_view name = entry->d_name;
    if (name != "." && name != ".." && absl::StartsWith(name, prefix)) names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status RunInNetns(absl::string_view name, absl::FunctionRef<absl::Status()> fn) {
  const std::string path = NetnsPath(name);
  int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) return ErrnoStatus(errno, absl::StrCat("open netns ", path));
  int original = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) {
    int err = errno;
    ::close(target);
    return ErrnoStatus(err, "open /proc/thread-self/ns/net");
  }
  absl::Status status;
  if (::setns(target, CLONE_NEWNET) != 0) {
    status = ErrnoStatus(errno, absl::StrCat("setns into netns ", name));
  } else {
    status = fn();
    if (::setns(original, CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "weftctl lab: cannot return from netns %s: %s\n",
                   std::string(name).c_str(), std::strerror(errno));
      std::abort();
    }
  }
  ::close(target);
  ::close(original);
  return status;
}

absl::StatusOr<int> OpenSocketInNetns(absl::string_view name, int domain, int type) {
  int fd = -1;
  absl::Status status = RunInNetns(name, [&]() -> absl::Status {
    fd = ::socket(domain, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return ErrnoStatus(errno, absl::StrCat("socket in netns ", name));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return fd;
}

absl::Status WriteSysctlInNetns(absl::string_view name, absl::string_view key,
                                absl::string_view value) {
  return RunInNetns(name, [&]() -> absl::Status {
    // The sysctl table a /proc/sys/net file refers to is chosen when it is opened.
    const std::string path = absl::StrCat("/proc/sys/", key);
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", path, " in netns ", name));
    ssize_t n = ::write(fd, value.data(), value.size());
    int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(value.size())) {
      return ErrnoStatus(n < 0 ? err : EIO, absl::StrCat("write ", path, " in netns ", name));
    }
    return absl::OkStatus();
  });
}

}  // namespace weft::lab

extern char** environ;

namespace weft::lab {
namespace {

// Drains both pipes together so a chatty child cannot block on a full pipe.
void DrainPipes(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&out, &err};
  int open_count = 2;
  char buf[4096];
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
}

}  // namespace

std::string FormatCommand(const std::vector<std::string>& argv) { return absl::StrJoin(argv, " "); }

absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv) {
  const std::string command = FormatCommand(argv);
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat(command, ": pipe: ", std::strerror(errno)));
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int saved = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return absl::InternalError(absl::StrCat(command, ": pipe: ", std::strerror(saved)));
  }

  // The supervisor blocks SIGCHLD/SIGTERM/SIGINT for its signalfd; a helper must not
  // inherit that mask, or it could not be interrupted.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);

  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int spawn_error = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawn_error != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return absl::FailedPreconditionError(
        absl::StrCat(command, ": cannot start: ", std::strerror(spawn_error)));
  }

  std::string out;
  std::string err;
  DrainPipes(out_pipe[0], err_pipe[0], out, err);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat(command, ": waitpid: ", std::strerror(errno)));
    }
  }
  std::string detail(absl::StripAsciiWhitespace(err));
  for (char& c : detail) {
    if (c == '\n') c = ' ';
  }
  if (WIFSIGNALED(status)) {
    return absl::InternalError(
        absl::StrCat(command, ": killed by signal ", WTERMSIG(status), ": ", detail));
  }
  if (WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat(command, ": exit status ", WEXITSTATUS(status), ": ", detail));
  }
  return out;
}

absl::Status RunIp(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv).status();
}

}  // namespace weft::lab
