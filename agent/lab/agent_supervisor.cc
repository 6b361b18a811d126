#include "agent/lab/agent_supervisor.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/lab/agent_launcher.h"
#include "agent/lab/health_probe.h"
#include "agent/lab/pod_sandbox.h"
#include "agent/lab/state_store.h"
#include "common/log/logger.h"

namespace weft::lab {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(500);
constexpr absl::Duration kMaxBackoff = absl::Seconds(30);
// An agent that stayed up this long before exiting starts its backoff afresh.
constexpr absl::Duration kStableRun = absl::Seconds(60);

std::string DescribeExit(int status) {
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::StrCat("exit status ", WEXITSTATUS(status));
}

std::string PodRef(const weft::lab::state::v1::PodState& pod) {
  return absl::StrCat(pod.namespace_(), "/", pod.name());
}

}  // namespace

AgentSupervisor::~AgentSupervisor() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

absl::Status AgentSupervisor::Init() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGCHLD);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) {
    return absl::InternalError(absl::StrCat("sigprocmask: ", std::strerror(errno)));
  }
  signal_fd_ = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd_ < 0) {
    return absl::InternalError(absl::StrCat("signalfd: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status AgentSupervisor::StartSandboxes(const weft::lab::state::v1::LabState& state) {
  state_ = state;
  for (int i = 0; i < state_.pods_size(); ++i) {
    if (absl::Status s = LaunchSandbox(i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status AgentSupervisor::StartAgents() {
  for (int i = 0; i < state_.nodes_size(); ++i) {
    if (absl::Status s = Launch(i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status AgentSupervisor::Launch(int node_index) {
  auto* node = state_.mutable_nodes(node_index);
  absl::StatusOr<pid_t> pid = StartAgent(agent_binary_, state_, *node);
  if (!pid.ok()) return pid.status();
  node->set_agent_pid(*pid);
  absl::StatusOr<uint64_t> start = ProcessStartTime(*pid);
  node->set_agent_start_time(start.ok() ? *start : 0);
  Restart& restart = restarts_[node_index];
  restart.due = absl::InfiniteFuture();
  restart.started = absl::Now();
  weft::log::Info("agent started",
                  {{"node", node->name()}, {"pid", *pid}, {"log", node->log_path()}});
  return SaveNode(node_index);
}

absl::Status AgentSupervisor::StartZtunnels() {
  if (ztunnel_binary_.empty()) return absl::OkStatus();
  for (int i = 0; i < state_.nodes_size(); ++i) {
    if (absl::Status s = LaunchZtunnel(i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status AgentSupervisor::LaunchZtunnel(int node_index) {
  auto* node = state_.mutable_nodes(node_index);
  absl::StatusOr<pid_t> pid = StartZtunnel(ztunnel_binary_, state_, *node);
  if (!pid.ok()) return pid.status();
  auto* z = node->mutable_ztunnel();
  z->set_pid(*pid);
  absl::StatusOr<uint64_t> start = ProcessStartTime(*pid);
  z->set_start_time(start.ok() ? *start : 0);
  Restart& restart = ztunnel_restarts_[node_index];
  restart.due = absl::InfiniteFuture();
  restart.started = absl::Now();
  weft::log::Info("ztunnel started",
                  {{"node", node->name()}, {"pid", *pid}, {"log", z->log_path()}});
  return SaveNode(node_index);
}

absl::Status AgentSupervisor::LaunchSandbox(int pod_index) {
  auto* pod = state_.mutable_pods(pod_index);
  absl::StatusOr<pid_t> pid = StartPodSandbox(*pod);
  if (!pid.ok()) return pid.status();
  pod->set_sandbox_pid(*pid);
  absl::StatusOr<uint64_t> start = ProcessStartTime(*pid);
  pod->set_sandbox_start_time(start.ok() ? *start : 0);
  Restart& restart = sandbox_restarts_[pod_index];
  restart.due = absl::InfiniteFuture();
  restart.started = absl::Now();
  weft::log::Info("pod sandbox started", {{"pod", PodRef(*pod)}, {"pid", *pid}});
  return SavePod(pod_index);
}

absl::Status AgentSupervisor::SavePod(int pod_index) {
  const auto& pod = state_.pods(pod_index);
  return UpdateState(lab_, [&](weft::lab::state::v1::LabState& saved) -> absl::Status {
    if (pod_index >= saved.pods_size()) return absl::OkStatus();
    auto* target = saved.mutable_pods(pod_index);
    target->set_sandbox_pid(pod.sandbox_pid());
    target->set_sandbox_start_time(pod.sandbox_start_time());
    target->set_sandbox_restarts(pod.sandbox_restarts());
    return absl::OkStatus();
  });
}

absl::Status AgentSupervisor::SaveNode(int node_index) {
  // Reload before saving: `lab label` may have changed state.json meanwhile.
  const auto& node = state_.nodes(node_index);
  return UpdateState(lab_, [&](weft::lab::state::v1::LabState& saved) -> absl::Status {
    if (node_index >= saved.nodes_size()) return absl::OkStatus();
    auto* target = saved.mutable_nodes(node_index);
    target->set_agent_pid(node.agent_pid());
    target->set_agent_start_time(node.agent_start_time());
    target->set_agent_restarts(node.agent_restarts());
    *target->mutable_ztunnel() = node.ztunnel();
    return absl::OkStatus();
  });
}

absl::Duration AgentSupervisor::ScheduleRestart(Restart& restart) {
  if (absl::Now() - restart.started >= kStableRun) restart.failures = 0;
  absl::Duration backoff =
      std::min(kMaxBackoff, kFirstBackoff * (1 << std::min(restart.failures, 6)));
  ++restart.failures;
  restart.due = absl::Now() + backoff;
  return backoff;
}

void AgentSupervisor::HandleExit(pid_t pid, int status) {
  for (int i = 0; i < state_.pods_size(); ++i) {
    auto* pod = state_.mutable_pods(i);
    if (pod->sandbox_pid() != pid) continue;
    absl::Duration backoff = ScheduleRestart(sandbox_restarts_[i]);
    pod->set_sandbox_pid(0);
    pod->set_sandbox_start_time(0);
    pod->set_sandbox_restarts(pod->sandbox_restarts() + 1);
    // The pod's netns outlives its sandbox (the /run/netns bind mount holds it), so the
    // new sandbox joins the very same namespace.
    weft::log::Warn("pod sandbox exited; restarting",
                    {{"pod", PodRef(*pod)},
                     {"pid", static_cast<int>(pid)},
                     {"how", DescribeExit(status)},
                     {"restart_in", absl::FormatDuration(backoff)}});
    if (absl::Status s = SavePod(i); !s.ok())
      weft::log::Warn("cannot record pod sandbox exit", {{"error", s}});
    return;
  }
  for (int i = 0; i < state_.nodes_size(); ++i) {
    auto* node = state_.mutable_nodes(i);
    if (node->agent_pid() != pid) continue;
    absl::Duration backoff = ScheduleRestart(restarts_[i]);
    node->set_agent_pid(0);
    node->set_agent_start_time(0);
    node->set_agent_restarts(node->agent_restarts() + 1);
    weft::log::Warn("agent exited; restarting", {{"node", node->name()},
                                                 {"pid", static_cast<int>(pid)},
                                                 {"how", DescribeExit(status)},
                                                 {"restart_in", absl::FormatDuration(backoff)},
                                                 {"log", node->log_path()}});
    if (absl::Status s = SaveNode(i); !s.ok())
      weft::log::Warn("cannot record agent exit", {{"error", s}});
    return;
  }
  for (int i = 0; i < state_.nodes_size(); ++i) {
    auto* z = state_.mutable_nodes(i)->mutable_ztunnel();
    if (z->pid() != pid) continue;
    absl::Duration backoff = ScheduleRestart(ztunnel_restarts_[i]);
    z->set_pid(0);
    z->set_start_time(0);
    z->set_restarts(z->restarts() + 1);
    weft::log::Warn("ztunnel exited; restarting", {{"node", state_.nodes(i).name()},
                                                   {"pid", static_cast<int>(pid)},
                                                   {"how", DescribeExit(status)},
                                                   {"restart_in", absl::FormatDuration(backoff)},
                                                   {"log", z->log_path()}});
    if (absl::Status s = SaveNode(i); !s.ok())
      weft::log::Warn("cannot record ztunnel exit", {{"error", s}});
    return;
  }
}

void AgentSupervisor::RunDueRestarts() {
  absl::Time now = absl::Now();
  for (auto& [index, restart] : restarts_) {
    if (restart.due > now) continue;
    if (absl::Status s = Launch(index); !s.ok()) {
      restart.due = now + kMaxBackoff;
      weft::log::Error("agent restart failed",
                       {{"node", state_.nodes(index).name()}, {"error", s}});
    }
  }
  for (auto& [index, restart] : ztunnel_restarts_) {
    if (restart.due > now) continue;
    if (absl::Status s = LaunchZtunnel(index); !s.ok()) {
      restart.due = now + kMaxBackoff;
      weft::log::Error("ztunnel restart failed",
                       {{"node", state_.nodes(index).name()}, {"error", s}});
    }
  }
  for (auto& [index, restart] : sandbox_restarts_) {
    if (restart.due > now) continue;
    if (absl::Status s = LaunchSandbox(index); !s.ok()) {
      restart.due = now + kMaxBackoff;
      weft::log::Error("pod sandbox restart failed",
                       {{"pod", PodRef(state_.pods(index))}, {"error", s}});
    }
  }
}

void AgentSupervisor::ReapAll(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) continue;
    if (pid < 0 && errno != EINTR) return;  // ECHILD: none left
    if (absl::Now() > deadline) {
      weft::log::Warn("children still running after teardown; leaving them to init",
                      {{"lab", lab_}});
      return;
    }
    ::usleep(10 * 1000);
  }
}

bool AgentSupervisor::PollOnce(absl::Duration max_wait) {
  absl::Time next_restart = absl::InfiniteFuture();
  for (const auto* restarts : {&restarts_, &sandbox_restarts_, &ztunnel_restarts_}) {
    for (const auto& [index, restart] : *restarts) {
      next_restart = std::min(next_restart, restart.due);
    }
  }
  absl::Duration wait = std::clamp(next_restart - absl::Now(), absl::ZeroDuration(), max_wait);
  pollfd p = {signal_fd_, POLLIN, 0};
  int rc = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait)));
  if (rc > 0) {
    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
      if (info.ssi_signo == SIGINT || info.ssi_signo == SIGTERM) {
        if (!stop_requested_) {
          weft::log::Info("stop requested", {{"signal", static_cast<int>(info.ssi_signo)}});
        }
        stop_requested_ = true;
      }
    }
    // SIGCHLD coalesces: reap everything that exited, not one per signal.
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (!stop_requested_) HandleExit(pid, status);
    }
  }
  if (!stop_requested_) RunDueRestarts();
  return stop_requested_;
}

absl::Status AgentSupervisor::WaitReady(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  std::vector<std::string> last_error(state_.nodes_size());
  std::vector<bool> healthy(state_.nodes_size(), false);
  while (true) {
    bool all = true;
    for (int i = 0; i < state_.nodes_size(); ++i) {
      const auto& node = state_.nodes(i);
      // A restarted agent must prove itself again.
      if (node.agent_pid() == 0) healthy[i] = false;
      if (healthy[i]) continue;
      absl::Status probe = node.agent_pid() == 0
                               ? absl::UnavailableError("agent not running (restart pending)")
                               : ProbeHealthz(node.netns(), node.admin_addr(), absl::Seconds(1));
      if (probe.ok() && !ztunnel_binary_.empty()) {
        probe = node.ztunnel().pid() == 0
                    ? absl::UnavailableError("ztunnel not running (restart pending)")
                    : ProbeHealthz(node.netns(), node.ztunnel().admin_addr(), absl::Seconds(1));
        if (!probe.ok()) probe = absl::UnavailableError(absl::StrCat("ztunnel: ", probe.message()));
      }
      healthy[i] = probe.ok();
      if (!probe.ok()) last_error[i] = absl::StrCat(node.name(), ": ", probe.message());
      all = all && healthy[i];
    }
    if (all) return absl::OkStatus();
    if (absl::Now() > deadline) {
      std::vector<std::string> failing;
      for (int i = 0; i < state_.nodes_size(); ++i) {
        if (!healthy[i]) failing.push_back(last_error[i]);
      }
      return absl::DeadlineExceededError(
          absl::StrCat("agents not healthy after ", absl::FormatDuration(timeout), ": ",
                       absl::StrJoin(failing, "; "), " (see the agent logs in the state dir)"));
    }
    if (PollOnce(absl::Milliseconds(200))) return absl::CancelledError("stop requested");
  }
}

void AgentSupervisor::RunUntilStopped() {
  while (!PollOnce(absl::Seconds(1))) {
  }
}

}  // namespace weft::lab
