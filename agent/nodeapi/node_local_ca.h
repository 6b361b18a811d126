// The agent's local CA as the node API uses it: root files in the CA directory, the trust domain
// of the config in force, and certificates only for identities with a workload on this node.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "agent/ca/local_ca.h"
#include "common/config/config_snapshot.h"

namespace weft::agent::nodeapi {

struct NodeLocalCaOptions {
  std::string ca_dir;  // created 0700 if missing; holds ca.key (0600) and ca.crt
  std::string node;
  const config::SnapshotStore* store = nullptr;  // must outlive the CA
};

// Opens (or on first start creates) the root for the trust domain of the snapshot in force
// (MeshSettings.trust_domain, "cluster.local" when unset). Unavailable while no snapshot exists:
// a root minted for a guessed trust domain would be refused once the real one is known.
absl::StatusOr<std::unique_ptr<ca::LocalCa>> OpenNodeLocalCa(const NodeLocalCaOptions& options);

// OpenNodeLocalCa on first use, for agents that start before their first valid config. Once
// open, the CA stays (its trust domain is fixed; a later change of trust domain makes the
// authorizer refuse every request, failing closed, until the agent restarts). Thread-safe.
class LazyNodeLocalCa {
 public:
  explicit LazyNodeLocalCa(NodeLocalCaOptions options) : options_(std::move(options)) {}

  // The CA, opening it if needed; the opening error otherwise (logged when it changes).
  absl::StatusOr<const ca::LocalCa*> Get();

 private:
  const NodeLocalCaOptions options_;
  std::mutex mu_;
  std::unique_ptr<ca::LocalCa> ca_;  // guarded by mu_
  std::string last_error_;           // guarded by mu_
};

}  // namespace weft::agent::nodeapi
