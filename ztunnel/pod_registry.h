// The control side of ztunnel's pods: what the agent handed over on the netns channel. For
// each pod it opens every worker's listeners inside the pod's netns (15001 outbound on
// loopback, 15006 plaintext inbound on loopback for sk_lookup, 15008 HBONE on the pod's
// addresses), hands them to the workers, and acknowledges with the 15006 listeners so the
// agent can steer to them. A REMOVE closes them and ends the pod's connections.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/nodeapi/netns_channel_client.h"
#include "ztunnel/shared_state.h"
#include "ztunnel/worker.h"

namespace weft::ztunnel {

struct PodPorts {
  uint16_t outbound = 15001;
  uint16_t inbound_plaintext = 15006;
  uint16_t hbone = 15008;
  int backlog = 1024;
};

class PodRegistry {
 public:
  // A pod is acknowledged (and so captured) only once ztunnel can serve it: `shared` knows
  // who it is, what policy applies and holds its identity's certificate.
  PodRegistry(std::vector<Worker*> workers, PodPorts ports, const SharedState* shared)
      : workers_(std::move(workers)), ports_(ports), shared_(shared) {}

  // The netns channel handler (runs on the channel's thread).
  nodeapi::NetnsChannelClient::Outcome OnMessage(const nodeapi::PodNetnsMessage& message,
                                                 event::ScopedFd netns_fd);
  // A new channel connection starts a resync: pods not re-sent by SNAPSHOT_DONE are stale.
  void BeginResync();
  // Closes every pod (shutdown).
  void RemoveAll();

  std::vector<std::string> Pods() const;
  bool synced() const;

 private:
  struct Pod {
    std::shared_ptr<const PodContext> context;
    // Our copies of worker 0's 15006 listeners (the reuseport group's registered member),
    // re-sent with every acknowledgement.
    std::vector<std::pair<int, event::ScopedFd>> inbound_listeners;
    bool confirmed = true;
  };

  nodeapi::NetnsChannelClient::Outcome Add(const nodeapi::PodNetnsMessage& message,
                                           event::ScopedFd netns_fd);
  void Remove(const std::string& uid);
  // Runs `task(worker)` on every worker's loop and waits for all of them.
  void OnEveryWorker(const std::function<void(Worker&)>& task);
  static nodeapi::NetnsChannelClient::Outcome Acknowledge(const Pod& pod);

  std::vector<Worker*> workers_;
  const PodPorts ports_;
  const SharedState* shared_;
  mutable std::mutex mu_;
  std::map<std::string, Pod> pods_;
  bool synced_ = false;
};

}  // namespace weft::ztunnel
