// Hands the latest config snapshot to every config stream. Only the newest snapshot is kept:
// a stream that is slower than the publisher skips versions instead of queueing them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/time/time.h"
#include "common/config/config_snapshot.h"

namespace weft::agent::nodeapi {

class SnapshotBroadcast : public std::enable_shared_from_this<SnapshotBroadcast> {
 public:
  // Subscribes to `store`. The store has no unsubscribe and outlives servers in tests, so it only
  // holds a weak reference: once the broadcast is gone, its listener does nothing.
  static std::shared_ptr<SnapshotBroadcast> Attach(config::SnapshotStore* store);

  // The latest snapshot when its version is above `after_version`; otherwise waits up to
  // `max_wait` for one (nullptr when none came, or once closed).
  std::shared_ptr<const config::ConfigSnapshot> WaitNewer(uint64_t after_version,
                                                          absl::Duration max_wait);

  // Wakes every waiter so it can re-check its own exit conditions.
  void WakeAll();
  // Wakes every waiter; later waits return nullptr at once.
  void Close();
  bool closed() const;

 private:
  SnapshotBroadcast() = default;
  void Offer(std::shared_ptr<const config::ConfigSnapshot> snapshot);

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::shared_ptr<const config::ConfigSnapshot> latest_;  // guarded by mu_
  uint64_t wakeups_ = 0;                                  // guarded by mu_
  bool closed_ = false;                                   // guarded by mu_
};

}  // namespace weft::agent::nodeapi
