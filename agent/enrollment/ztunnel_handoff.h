// How enrollment learns that ztunnel serves a pod, so capture never sends a pod's connections
// into a port nobody listens on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/enrollment/enrollment_plan.h"
#include "agent/enrollment/pod_netns_discovery.h"
#include "common/nodeapi/netns_codec.h"

namespace weft::agent {

struct HandoffState {
  bool ready = false;
  // ztunnel's plaintext inbound listeners for the pod (sk_lookup targets). Changes when
  // ztunnel re-acknowledges the pod (a restarted ztunnel opened new ones).
  std::vector<nodeapi::InboundListenerFd> inbound_listeners;
  uint64_t generation = 0;  // bumps with every acknowledgement
};

class ZtunnelHandoff {
 public:
  virtual ~ZtunnelHandoff() = default;
  // Offers the pod to ztunnel (idempotent; a new netns is offered anew) and says whether
  // ztunnel has acknowledged it. Called on the enrollment thread.
  virtual HandoffState Offer(const EnrolledWorkload& workload, const PodNetns& netns) = 0;
  // Withdraws the pod, after its capture has stopped.
  virtual void Withdraw(const std::string& workload_uid) = 0;
};

}  // namespace weft::agent
