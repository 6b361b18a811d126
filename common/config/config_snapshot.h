// Immutable, versioned views of the cluster config, swapped atomically (RCU
// style): readers take a shared_ptr to the current snapshot and keep using it for
// as long as they like; a writer publishes a whole new one. Nothing locks on the
// read path.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "weft/config/v1/config.pb.h"

namespace weft::config {

struct ConfigSnapshot {
  uint64_t version = 0;  // 1 for the first snapshot a store publishes
  std::string source;    // e.g. "file:/etc/weft/cluster.yaml"
  absl::Time applied_at;
  weft::config::v1::ClusterConfig config;
};

class SnapshotStore {
 public:
  using Listener = std::function<void(std::shared_ptr<const ConfigSnapshot>)>;

  // Null until the first Publish.
  std::shared_ptr<const ConfigSnapshot> Current() const { return current_.load(); }

  // Publishes `config` (already validated) as the next version and tells every
  // listener, in publication order, on the publishing thread.
  std::shared_ptr<const ConfigSnapshot> Publish(weft::config::v1::ClusterConfig config,
                                                std::string source);

  // `listener` is called for every later Publish (and at once with the current
  // snapshot, if any).
  void Subscribe(Listener listener);

 private:
  std::atomic<std::shared_ptr<const ConfigSnapshot>> current_;
  std::mutex publish_mu_;  // orders publishers and listener calls; never held by readers
  uint64_t next_version_ = 1;
  std::vector<Listener> listeners_;
};

}  // namespace weft::config
