// Keeps one weft-agent per lab node running: starts them, waits until every /healthz
// answers, restarts an agent that exits (with exponential backoff, logged) and notices
// SIGINT/SIGTERM. Signals arrive through a signalfd, so the supervisor is one thread
// with no async signal handlers.
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
  AgentSupervisor(std::string lab, std::string agent_binary)
      : lab_(std::move(lab)), agent_binary_(std::move(agent_binary)) {}
  ~AgentSupervisor();

  // Blocks SIGINT, SIGTERM and SIGCHLD and opens the signalfd. Call first, before any
  // child exists, so no exit or stop request is missed.
  absl::Status Init();

  // Starts every node's agent and records the pids in state.json.
  absl::Status StartAgents(const weft::lab::state::v1::LabState& state);

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

  // Reaps exited children without restarting them (during teardown).
  void ReapAll();

 private:
  struct Restart {
    absl::Time due = absl::InfiniteFuture();
    int failures = 0;
    absl::Time started = absl::InfinitePast();
  };

  absl::Status Launch(int node_index);
  void HandleExit(pid_t pid, int status);
  void RunDueRestarts();
  absl::Status SaveNode(int node_index);

  std::string lab_;
  std::string agent_binary_;
  weft::lab::state::v1::LabState state_;
  int signal_fd_ = -1;
  bool stop_requested_ = false;
  std::map<int, Restart> restarts_;  // by node index
};

}  // namespace weft::lab
