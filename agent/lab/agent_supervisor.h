// Keeps one weft-agent per lab node and one sandbox per pod running: starts them, waits
// until every /healthz answers, restarts an agent or sandbox that exits (with exponential
// backoff, logged) and notices SIGINT/SIGTERM. Signals arrive through a signalfd, so the supervisor
// is one thread with no async signal handlers.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/lab/lab_state.pb.h"

namespace weft::lab {

class AgentSupervisor {
 public:
  // `ztunnel_binary` empty: the lab runs no ztunnel.
  AgentSupervisor(std::string lab, std::string agent_binary, std::string ztunnel_binary = "")
      : lab_(std::move(lab)),
        agent_binary_(std::move(agent_binary)),
        ztunnel_binary_(std::move(ztunnel_binary)) {}
  ~AgentSupervisor();

  // Blocks SIGINT, SIGTERM and SIGCHLD and opens the signalfd. Call first, before any
  // child exists, so no exit or stop request is missed.
  absl::Status Init();

  // Adopts `state` and starts every pod's sandbox (pod_sandbox.h), recording the pids in
  // state.json. Call before StartAgents: an agent looks for its pods' processes.
  absl::Status StartSandboxes(const weft::lab::state::v1::LabState& state);

  // Starts every node's agent and records the pids in state.json.
  absl::Status StartAgents();
  // Starts every node's ztunnel (after the agents: it connects to their node API).
  absl::Status StartZtunnels();

  // Until every agent answers /healthz; Cancelled on SIGINT/SIGTERM, DeadlineExceeded
  // (naming the nodes and their last probe error) after `timeout`.
  absl::Status WaitReady(absl::Duration timeout);

  // Handles signals and due restarts for up to `max_wait`; true once a stop was asked.
  bool PollOnce(absl::Duration max_wait);
  bool stop_requested() const { return stop_requested_; }

  // Supervises until SIGINT/SIGTERM.
  void RunUntilStopped();

  // The state as the supervisor last saved it.
  const weft::lab::state::v1::LabState& state() const { return state_; }

  // Reaps children without restarting them (during teardown, once they were killed),
  // waiting up to `timeout` for the last: a child whose cgroup is already empty may not be
  // reapable yet, and left behind it would linger as a zombie of init.
  void ReapAll(absl::Duration timeout);

 private:
  struct Restart {
    absl::Time due = absl::InfiniteFuture();
    int failures = 0;
    absl::Time started = absl::InfinitePast();
  };

  // Schedules the next start of an agent or sandbox that exited; returns the delay.
  static absl::Duration ScheduleRestart(Restart& restart);
  absl::Status Launch(int node_index);
  absl::Status LaunchSandbox(int pod_index);
  absl::Status LaunchZtunnel(int node_index);
  void HandleExit(pid_t pid, int status);
  void RunDueRestarts();
  absl::Status SaveNode(int node_index);
  absl::Status SavePod(int pod_index);

  std::string lab_;
  std::string agent_binary_;
  std::string ztunnel_binary_;
  weft::lab::state::v1::LabState state_;
  int signal_fd_ = -1;
  bool stop_requested_ = false;
  std::map<int, Restart> restarts_;          // by node index
  std::map<int, Restart> sandbox_restarts_;  // by pod index
  std::map<int, Restart> ztunnel_restarts_;  // by node index
};

}  // namespace weft::lab
