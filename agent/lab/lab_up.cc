// `weftctl lab up TOPOLOGY [--name LAB] [--detach] [--ready-timeout SECONDS]`: builds the
// lab, then stays as its supervisor until SIGINT/SIGTERM and tears it down.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/ca/local_ca.h"
#include "agent/lab/address_plan.h"
#include "agent/lab/agent_launcher.h"
#include "agent/lab/agent_supervisor.h"
#include "agent/lab/cgroup_tree.h"
#include "agent/lab/cluster_config.h"
#include "agent/lab/lab_status.h"
#include "agent/lab/lab_subcommands.h"
#include "agent/lab/lab_teardown.h"
#include "common/host/mount_table.h"
#include "agent/lab/network_builder.h"
#include "agent/lab/state_store.h"
#include "agent/lab/topology_loader.h"
#include "common/log/logger.h"
#include "common/status/errno_status.h"

namespace weft::lab {
namespace {

using weft::lab::state::v1::LabState;

struct UpRequest {
  std::string lab;
  LoadedTopology topology;
  LabState plan;
  weft::config::v1::ClusterConfig config;
  std::string agent_binary;
  std::string ztunnel_binary;  // empty: --no-ztunnel
  absl::Duration ready_timeout = absl::Seconds(60);
};

absl::StatusOr<UpRequest> Prepare(const std::vector<std::string>& args) {
  absl::StatusOr<LabArgs> parsed = ParseLabArgs(args, {"--name", "--ready-timeout"}, {"--detach", "--no-ztunnel"});
  if (!parsed.ok()) return parsed.status();
  if (parsed->positional.size() != 1 || parsed->has_command) {
    return absl::InvalidArgumentError(
        "usage: weftctl lab up TOPOLOGY.yaml [--name LAB] [--detach] [--no-ztunnel]");
  }
  UpRequest request;
  absl::StatusOr<std::string> lab = ResolveLabName(parsed->Flag("--name"));
  if (!lab.ok()) return lab.status();
  request.lab = *lab;
  if (parsed->Has("--ready-timeout")) {
    int seconds = 0;
    if (!absl::SimpleAtoi(parsed->Flag("--ready-timeout"), &seconds) || seconds <= 0) {
      return absl::InvalidArgumentError("--ready-timeout: expected a positive number of seconds");
    }
    request.ready_timeout = absl::Seconds(seconds);
  }
  absl::StatusOr<LoadedTopology> topology = LoadTopology(parsed->positional[0]);
  if (!topology.ok()) return topology.status();
  request.topology = std::move(*topology);
  absl::StatusOr<std::string> binary = FindAgentBinary();
  if (!binary.ok()) return binary.status();
  request.agent_binary = *binary;
  const bool ztunnel = !parsed->Has("--no-ztunnel");
  if (ztunnel) {
    absl::StatusOr<std::string> ztunnel_binary = FindZtunnelBinary();
    if (!ztunnel_binary.ok()) return ztunnel_binary.status();
    request.ztunnel_binary = *ztunnel_binary;
  }
  absl::StatusOr<std::string> cgroup2 = host::Cgroup2MountPoint();
  if (!cgroup2.ok()) return cgroup2.status();
  absl::StatusOr<std::string> bpffs = host::EnsureBpffsMounted();
  if (!bpffs.ok()) return bpffs.status();
  absl::StatusOr<LabState> plan = PlanLab(request.lab, request.topology.topology, *cgroup2, *bpffs);
  if (!plan.ok()) return plan.status();
  request.plan = std::move(*plan);
  request.plan.set_ztunnel(ztunnel);
  if (const char* flags = std::getenv("WEFT_LAB_ZTUNNEL_FLAGS"); ztunnel && flags != nullptr) {
    for (absl::string_view flag : absl::StrSplit(flags, ' ', absl::SkipEmpty())) {
      request.plan.add_ztunnel_flags(std::string(flag));
    }
  }
  char resolved[PATH_MAX];
  request.plan.set_topology_path(::realpath(request.topology.path.c_str(), resolved) != nullptr
                                     ? resolved
                                     : request.topology.path);
  request.config = BuildClusterConfig(request.topology.topology, request.plan);
  std::vector<weft::config::FieldError> errors =
      ValidateBuiltClusterConfig(request.config, request.topology.lines);
  if (!errors.empty()) {
    return absl::InvalidArgumentError(JoinFieldErrors(request.topology.path, errors));
  }
  return request;
}

// A lab whose supervisor died leaves things behind; building over them would mix two
// runs, so the user is sent to `lab down` first.
absl::Status CheckNoLeftovers(const UpRequest& request) {
  const std::string down = absl::StrCat("; run 'weftctl lab down --name ", request.lab, "' first");
  if (absl::StatusOr<LabState> old = LoadState(request.lab); old.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("lab ", request.lab, " has state from an earlier run (supervisor pid ",
                     old->supervisor_pid(), " is gone)", down));
  }
  absl::StatusOr<std::vector<std::string>> netns = ListNetns(NetnsPrefix(request.lab));
  if (!netns.ok()) return netns.status();
  if (!netns->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("network namespace ", (*netns)[0], " already exists", down));
  }
  if (::access(request.plan.cgroup().c_str(), F_OK) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cgroup ", request.plan.cgroup(), " already exists", down));
  }
  return absl::OkStatus();
}

absl::Status Interrupted(AgentSupervisor& supervisor) {
  return supervisor.PollOnce(absl::ZeroDuration()) ? absl::CancelledError("stop requested")
                                                   : absl::OkStatus();
}

// One root of trust for the whole lab, as one cluster has: every node's agent opens the same
// CA directory, so every ztunnel trusts every other's certificates. Made here, before the
// agents start, so that two agents never race to create it.
absl::Status CreateLabCa(const LabState& plan, const weft::config::v1::ClusterConfig& config) {
  if (::mkdir(plan.ca_dir().c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, "mkdir", plan.ca_dir());
  }
  ca::LocalCaOptions options;
  options.root_key_path = plan.ca_dir() + "/ca.key";
  options.root_cert_path = plan.ca_dir() + "/ca.crt";
  options.trust_domain =
      config.mesh().trust_domain().empty() ? "cluster.local" : config.mesh().trust_domain();
  // The lab only makes the root; the agents issue.
  options.authorizer = [](const std::string&) {
    return absl::PermissionDeniedError("the lab issues no certificates");
  };
  absl::StatusOr<std::unique_ptr<ca::LocalCa>> ca = ca::LocalCa::Create(std::move(options));
  return ca.ok() ? absl::OkStatus() : ca.status();
}

absl::Status BuildAndStart(const UpRequest& request, AgentSupervisor& supervisor) {
  const LabState& plan = request.plan;
  std::vector<std::string> cgroups = {plan.cgroup()};
  for (const auto& node : plan.nodes()) {
    cgroups.push_back(node.cgroup_root());
    cgroups.push_back(node.agent_cgroup());
    if (plan.ztunnel()) cgroups.push_back(node.ztunnel().cgroup());
  }
  for (const auto& pod : plan.pods()) cgroups.push_back(pod.cgroup());
  for (const std::string& path : cgroups) {
    if (absl::Status s = CreateCgroup(path); !s.ok()) return s;
  }
  if (absl::Status s = BuildFabric(plan); !s.ok()) return s;
  for (int i = 0; i < plan.nodes_size(); ++i) {
    if (absl::Status s = Interrupted(supervisor); !s.ok()) return s;
    if (absl::Status s = BuildNode(plan, i); !s.ok()) return s;
  }
  for (int i = 0; i < plan.nodes_size(); ++i) {
    if (absl::Status s = BuildNodeRoutes(plan, i); !s.ok()) return s;
  }
  for (int i = 0; i < plan.pods_size(); ++i) {
    if (absl::Status s = Interrupted(supervisor); !s.ok()) return s;
    if (absl::Status s = BuildPod(plan, i); !s.ok()) return s;
  }
  if (absl::Status s = WriteJsonAtomically(plan.cluster_config_path(), request.config); !s.ok()) {
    return s;
  }
  weft::log::Info("network built",
                  {{"lab", plan.name()}, {"nodes", plan.nodes_size()}, {"pods", plan.pods_size()}});
  // Sandboxes before agents: an agent finds its pods' netns through their processes.
  if (absl::Status s = supervisor.StartSandboxes(plan); !s.ok()) return s;
  if (absl::Status s = CreateLabCa(plan, request.config); !s.ok()) return s;
  if (absl::Status s = supervisor.StartAgents(); !s.ok()) return s;
  if (absl::Status s = supervisor.StartZtunnels(); !s.ok()) return s;
  if (absl::Status s = supervisor.WaitReady(request.ready_timeout); !s.ok()) return s;
  return UpdateState(request.lab, [](LabState& state) {
    state.set_phase("ready");
    return absl::OkStatus();
  });
}

void TearDown(const std::string& lab, const LabState& state, AgentSupervisor& supervisor) {
  (void)UpdateState(lab, [](LabState& s) {
    s.set_phase("stopping");
    return absl::OkStatus();
  });
  StopAgentsGracefully(state, 3000);
  TeardownReport report = TeardownLab(lab, state);
  supervisor.ReapAll(absl::Seconds(2));
  for (const std::string& problem : report.problems) {
    weft::log::Error("teardown problem", {{"lab", lab}, {"error", problem}});
  }
  if (absl::Status s = RemoveStateDir(lab); !s.ok()) {
    weft::log::Error("cannot remove state dir", {{"lab", lab}, {"error", s}});
  }
  weft::log::Info("lab torn down", {{"lab", lab}, {"removed", report.removed.size()}});
}

void WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

void RedirectOutput(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ::dup2(fd, 1);
  ::dup2(fd, 2);
  ::close(fd);
}

// The supervisor's life. `report_fd` (detached mode) receives the ready summary or
// "error: <reason>" and is closed once the outcome is known.
int Supervise(UpRequest& request, int report_fd) {
  const std::string& lab = request.lab;
  auto report_failure = [&](const absl::Status& status) {
    if (report_fd >= 0) {
      WriteAll(report_fd, absl::StrCat("error: ", status.message(), "\n"));
      ::close(report_fd);
    }
    return ReportFailure("up", status);
  };
  if (absl::Status s = CreateStateDir(lab); !s.ok()) return report_failure(s);
  absl::StatusOr<FileLock> lock = FileLock::Acquire(LabLockPath(lab), /*wait=*/false);
  if (absl::IsResourceExhausted(lock.status())) {
    absl::StatusOr<LabState> running = LoadState(lab);
    return report_failure(absl::AlreadyExistsError(
        absl::StrCat("lab ", lab, " is already running (supervisor pid ",
                     running.ok() ? absl::StrCat(running->supervisor_pid()) : "unknown", ")")));
  }
  if (!lock.ok()) return report_failure(lock.status());
  if (absl::Status s = CheckNoLeftovers(request); !s.ok()) return report_failure(s);
  if (report_fd >= 0) RedirectOutput(SupervisorLogPath(lab));

  request.plan.set_supervisor_pid(::getpid());
  absl::StatusOr<uint64_t> start = ProcessStartTime(::getpid());
  request.plan.set_supervisor_start_time(start.ok() ? *start : 0);
  // Recorded before anything exists, so `lab down` can undo any part of what follows.
  if (absl::Status s = SaveState(lab, request.plan); !s.ok()) return report_failure(s);

  AgentSupervisor supervisor(lab, request.agent_binary, request.ztunnel_binary);
  absl::Status status = supervisor.Init();
  if (status.ok()) status = BuildAndStart(request, supervisor);
  if (!status.ok()) {
    weft::log::Error("lab up failed; tearing down", {{"lab", lab}, {"error", status}});
    TearDown(lab, supervisor.state().nodes_size() > 0 ? supervisor.state() : request.plan,
             supervisor);
    return report_failure(status);
  }
  absl::StatusOr<LabState> ready = LoadState(lab);
  std::string summary = absl::StrCat(RenderLabSummary(ready.ok() ? *ready : supervisor.state()),
                                     "lab ", lab, " ready\n");
  std::fputs(summary.c_str(), stdout);
  std::fflush(stdout);
  if (report_fd >= 0) {
    WriteAll(report_fd, summary);
    ::close(report_fd);
  }
  weft::log::Info("lab ready", {{"lab", lab}});
  supervisor.RunUntilStopped();
  TearDown(lab, supervisor.state(), supervisor);
  return 0;
}

// Forks the supervisor into its own session and relays its outcome.
int RunDetached(UpRequest& request) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return ReportFailure("up", absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno))));
  }
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    return ReportFailure("up", absl::InternalError(absl::StrCat("fork: ", std::strerror(errno))));
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::setsid();
    // Do not keep the caller's working directory (and its mount) busy for the lab's life.
    if (::chdir("/") != 0) std::exit(ReportFailure("up", absl::InternalError("chdir /")));
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
      ::dup2(null_fd, 0);
      ::dup2(null_fd, 1);
      ::dup2(null_fd, 2);
      ::close(null_fd);
    }
    std::exit(Supervise(request, fds[1]));
  }
  ::close(fds[1]);
  std::string outcome;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    outcome.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (outcome.rfind("error: ", 0) == 0) {
    return ReportFailure("up",
                         absl::UnknownError(absl::StripTrailingAsciiWhitespace(outcome.substr(7))));
  }
  if (outcome.find(absl::StrCat("lab ", request.lab, " ready")) == std::string::npos) {
    return ReportFailure("up", absl::UnknownError(absl::StrCat(
                                   "the supervisor exited before the lab was ready; see ",
                                   SupervisorLogPath(request.lab))));
  }
  std::fputs(outcome.c_str(), stdout);
  return 0;
}

}  // namespace

int RunLabUp(const std::vector<std::string>& args) {
  absl::StatusOr<UpRequest> request = Prepare(args);
  if (!request.ok()) return ReportFailure("up", request.status());
  bool detach = false;
  for (const std::string& arg : args) {
    if (arg == "--") break;
    detach = detach || arg == "--detach";
  }
  return detach ? RunDetached(*request) : Supervise(*request, -1);
}

}  // namespace weft::lab
