#include "ztunnel/worker.h"


#include "common/log/logger.h"
#include "ztunnel/heap_policy.h"
#include "ztunnel/inbound_hbone_connection.h"
#include "ztunnel/inbound_plaintext.h"
#include "ztunnel/outbound_connection.h"

namespace weft::ztunnel {

Worker::Worker(size_t index, event::EventLoop* loop, SharedState* shared)
    : index_(index), loop_(loop), shared_(shared), pool_(loop, shared) {}

event::EventLoop::AcceptCallback Worker::AcceptorFor(ListenerKind kind,
                                                     std::shared_ptr<const PodContext> pod) {
  switch (kind) {
    case ListenerKind::kOutbound:
      return [this, pod](event::ConnectionId id) { return AcceptOutbound(*this, pod, id); };
    case ListenerKind::kInboundPlaintext:
      return [this, pod](event::ConnectionId id) {
        return AcceptInboundPlaintext(*this, pod, id);
      };
    case ListenerKind::kHbone:
      return [this, pod](event::ConnectionId id) -> std::unique_ptr<event::ConnectionHandler> {
        return InboundHboneConnection::Accept(*this, pod, id);
      };
  }
  return nullptr;
}

void Worker::AddPod(std::shared_ptr<const PodContext> pod, std::vector<PodListenerFd> listeners) {
  RemovePod(pod->uid);  // a re-sent pod (new netns) replaces the old listeners
  PodOnWorker& entry = pods_[pod->uid];
  entry.pod = pod;
  for (PodListenerFd& l : listeners) {
    absl::StatusOr<event::ListenerId> id =
        loop_->AddListener(std::move(l.fd), AcceptorFor(l.kind, pod));
    if (!id.ok()) {
      log::Error("worker could not accept on a pod listener",
                 {{"worker", static_cast<unsigned long long>(index_)},
                  {"workload", pod->uid},
                  {"error", id.status()}});
      continue;
    }
    entry.listeners.push_back(*id);
  }
}

void Worker::RemovePod(const std::string& uid) {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  for (event::ListenerId id : it->second.listeners) (void)loop_->RemoveListener(id);
  for (const std::weak_ptr<Relay>& weak : it->second.relays) {
    if (std::shared_ptr<Relay> relay = weak.lock()) {
      relay->AbortAll(absl::CancelledError("pod left the mesh"));
    }
  }
  pods_.erase(it);
}

void Worker::Track(const std::string& pod_uid, const std::shared_ptr<Relay>& relay) {
  auto it = pods_.find(pod_uid);
  if (it != pods_.end()) it->second.relays.push_back(relay);
}

void Worker::StopAccepting() {
  for (auto& [uid, entry] : pods_) {
    for (event::ListenerId id : entry.listeners) (void)loop_->RemoveListener(id);
    entry.listeners.clear();
  }
  pool_.ShutdownAll();
  for (HboneTransport* connection : inbound_) connection->Shutdown();
}

void Worker::AbortAll(const absl::Status& reason) {
  for (auto& [uid, entry] : pods_) {
    for (const std::weak_ptr<Relay>& weak : entry.relays) {
      if (std::shared_ptr<Relay> relay = weak.lock()) relay->AbortAll(reason);
    }
  }
}

size_t Worker::live_relays() {
  size_t n = 0;
  for (auto& [uid, entry] : pods_) {
    std::erase_if(entry.relays, [](const std::weak_ptr<Relay>& r) { return r.expired(); });
    n += entry.relays.size();
  }
  return n;
}

void Worker::Tick() {
  pool_.ExpireIdle();
  const size_t live = live_relays();  // also prunes finished relays
  // The heap keeps what a traffic burst grew it to (heap_policy.h); hand it back once this
  // worker has gone a tick without connections (every arena, so the worker that carried
  // the burst does it).
  if (live == 0 && busy_since_trim_) {
    ReleaseIdleHeap();
    busy_since_trim_ = false;
  } else if (live > 0) {
    busy_since_trim_ = true;
  }
}

}  // namespace weft::ztunnel
