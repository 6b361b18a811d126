// What the node API server is given by the agent.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/ca/local_ca.h"
#include "common/admin/metrics_registry.h"
#include "common/config/config_snapshot.h"

namespace weft::agent::nodeapi {

struct NodeApiOptions {
  // gRPC listens on unix:<socket_path>; the file ends up 0600, its directory is made 0700.
  std::string socket_path;
  // The node this agent serves: certificates go only to identities with a workload here.
  std::string node;
  config::SnapshotStore* store = nullptr;  // required; must outlive the server
  // Null: IssueCertificate answers Unavailable. Its authorizer should be
  // NodeIdentityAuthorizer(store, node).
  const ca::LocalCa* ca = nullptr;
  // Instead of `ca`: asked at every request, so the CA can open once the first config is known
  // (see LazyNodeLocalCa). Its error is the request's answer.
  std::function<absl::StatusOr<const ca::LocalCa*>()> ca_source;
  // Requested lifetimes are capped at cert_max_ttl; a request for 0 gets cert_default_ttl
  // (itself capped at the maximum).
  absl::Duration cert_max_ttl = absl::Hours(24);
  absl::Duration cert_default_ttl = absl::Hours(24);
  admin::MetricsRegistry* metrics = nullptr;  // optional
  // Uids of the pods enrolled on this node, for GetStatus; may be empty.
  std::function<std::vector<std::string>()> enrolled_workload_uids;
};

}  // namespace weft::agent::nodeapi
