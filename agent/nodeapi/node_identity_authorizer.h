// Which SPIFFE identities this node's agent may have certified: those of workloads scheduled on
// this node in the config snapshot in force. A compromised ztunnel can thus only obtain the
// identities of pods that already run next to it.
#pragma once

#include <string>

#include "agent/ca/local_ca.h"
#include "common/config/config_snapshot.h"

namespace weft::agent::nodeapi {

inline constexpr char kDefaultTrustDomain[] = "cluster.local";

// The mesh's trust domain (MeshSettings.trust_domain, "cluster.local" when unset).
std::string TrustDomainOf(const weft::config::v1::ClusterConfig& config);

// OK when `identity` is spiffe://<trust domain of the snapshot>/ns/<ns>/sa/<sa> of at least one
// workload whose `node` is `node`; PermissionDenied naming the identity and the node otherwise
// (also while no snapshot exists). `store` must outlive the returned function.
ca::IdentityAuthorizer NodeIdentityAuthorizer(const config::SnapshotStore* store, std::string node);

}  // namespace weft::agent::nodeapi
