#include "agent/nodeapi/snapshot_broadcast.h"

#include <chrono>

namespace weft::agent::nodeapi {

std::shared_ptr<SnapshotBroadcast> SnapshotBroadcast::Attach(config::SnapshotStore* store) {
  std::shared_ptr<SnapshotBroadcast> broadcast(new SnapshotBroadcast());
  std::weak_ptr<SnapshotBroadcast> weak = broadcast;
  store->Subscribe([weak](std::shared_ptr<const config::ConfigSnapshot> snapshot) {
    if (auto alive = weak.lock()) alive->Offer(std::move(snapshot));
  });
  return broadcast;
}

void SnapshotBroadcast::Offer(std::shared_ptr<const config::ConfigSnapshot> snapshot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Listeners run in publication order, but keep the newest even if that ever changes.
    if (latest_ != nullptr && snapshot->version <= latest_->version) return;
    latest_ = std::move(snapshot);
  }
  changed_.notify_all();
}

std::shared_ptr<const config::ConfigSnapshot> SnapshotBroadcast::WaitNewer(
    uint64_t after_version, absl::Duration max_wait) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t wakeups = wakeups_;
  auto ready = [&] {
    return closed_ || wakeups_ != wakeups ||
           (latest_ != nullptr && latest_->version > after_version);
  };
  changed_.wait_for(lock, absl::ToChronoNanoseconds(max_wait), ready);
  if (closed_ || latest_ == nullptr || latest_->version <= after_version) return nullptr;
  return latest_;
}

void SnapshotBroadcast::WakeAll() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++wakeups_;
  }
  changed_.notify_all();
}

void SnapshotBroadcast::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  changed_.notify_all();
}

bool SnapshotBroadcast::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

}  // namespace weft::agent::nodeapi
