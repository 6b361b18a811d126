// One ztunnel worker: an io_uring event loop on its own thread, with its own listeners in
// every enrolled pod, its own HBONE connection pool and load-balancing state, and the relays
// it runs. Nothing here is shared with another worker; the control thread reaches a worker
// only through EventLoop::Post.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/event/event_loop.h"
#include "ztunnel/hbone_connection_pool.h"
#include "ztunnel/load_balancer.h"
#include "ztunnel/relay.h"
#include "ztunnel/shared_state.h"

namespace weft::ztunnel {

enum class ListenerKind { kOutbound, kInboundPlaintext, kHbone };

struct PodListenerFd {
  ListenerKind kind;
  event::ScopedFd fd;
};

class Worker {
 public:
  Worker(size_t index, event::EventLoop* loop, SharedState* shared);

  size_t index() const { return index_; }
  event::EventLoop& loop() { return *loop_; }
  SharedState& shared() { return *shared_; }
  HboneConnectionPool& pool() { return pool_; }
  LoadBalancer& balancer() { return balancer_; }

  // Loop thread. Starts accepting on the pod's listeners.
  void AddPod(std::shared_ptr<const PodContext> pod, std::vector<PodListenerFd> listeners);
  // Loop thread. Closes the pod's listeners and ends its connections.
  void RemovePod(const std::string& uid);
  // Loop thread. Every relay started for a pod, so RemovePod and drain can end them.
  void Track(const std::string& pod_uid, const std::shared_ptr<Relay>& relay);
  // Loop thread. Stops accepting everywhere (drain): listeners close, and every HBONE
  // connection, ours or a peer's, gets a GOAWAY so new streams go to a successor;
  // established streams go on.
  void StopAccepting();
  // Loop thread. Inbound HBONE connections, so a drain can send them GOAWAY.
  void AddInbound(HboneTransport* connection) { inbound_.insert(connection); }
  void RemoveInbound(HboneTransport* connection) { inbound_.erase(connection); }
  // Loop thread. Ends every connection still open.
  void AbortAll(const absl::Status& reason);
  size_t live_relays();
  // Periodic housekeeping: idle pool connections, finished relays.
  void Tick();

 private:
  struct PodOnWorker {
    std::shared_ptr<const PodContext> pod;
    std::vector<event::ListenerId> listeners;
    std::vector<std::weak_ptr<Relay>> relays;
  };
  event::EventLoop::AcceptCallback AcceptorFor(ListenerKind kind,
                                               std::shared_ptr<const PodContext> pod);

  const size_t index_;
  event::EventLoop* loop_;
  SharedState* shared_;
  HboneConnectionPool pool_;
  LoadBalancer balancer_;
  std::map<std::string, PodOnWorker> pods_;
  std::set<HboneTransport*> inbound_;
  bool busy_since_trim_ = false;
};

}  // namespace weft::ztunnel
