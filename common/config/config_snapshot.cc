#include "common/config/config_snapshot.h"

#include "absl/time/clock.h"

namespace weft::config {

std::shared_ptr<const ConfigSnapshot> SnapshotStore::Publish(
    weft::config::v1::ClusterConfig config, std::string source) {
  std::lock_guard<std::mutex> lock(publish_mu_);
  auto snapshot = std::make_shared<ConfigSnapshot>();
  snapshot->version = next_version_++;
  snapshot->source = std::move(source);
  snapshot->applied_at = absl::Now();
  snapshot->config = std::move(config);
  std::shared_ptr<const ConfigSnapshot> published = std::move(snapshot);
  current_.store(published);
  for (const Listener& listener : listeners_) listener(published);
  return published;
}

void SnapshotStore::Subscribe(Listener listener) {
  std::lock_guard<std::mutex> lock(publish_mu_);
  if (auto current = current_.load()) listener(current);
  listeners_.push_back(std::move(listener));
}

}  // namespace weft::config
