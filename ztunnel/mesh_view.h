// ztunnel's read-only view of one config snapshot: who is where, which service VIPs lead
// to which endpoints, who is in the mesh, and the L4 authorization evaluator. Built once
// per snapshot on the control thread, then shared by every worker without locks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/authz/authorization_evaluator.h"
#include "common/config/dataplane_mode.h"
#include "weft/config/v1/config.pb.h"

namespace weft::ztunnel {

struct WorkloadInfo {
  const weft::config::v1::Workload* proto = nullptr;
  std::string identity;  // spiffe://<trust-domain>/ns/<ns>/sa/<sa>
  bool in_mesh = false;  // reached over HBONE on its pod IP, port 15008
  bool healthy = true;
  config::InboundMode inbound_mode = config::InboundMode::kPermissive;
  authz::DestinationWorkload authz_destination;
};

struct ServiceInfo {
  const weft::config::v1::Service* proto = nullptr;
  std::string key;  // "<namespace>/<name>"
  // Explicit endpoints, then workloads the selector matches: (workload index, port
  // override or 0).
  std::vector<std::pair<size_t, uint32_t>> members;
};

struct ServiceEndpoint {
  const WorkloadInfo* workload = nullptr;
  std::string address;  // the workload address of the VIP's family
  uint16_t port = 0;
};

class MeshView {
 public:
  // Fails (naming the policy) when the authorization evaluator cannot be built: ztunnel
  // then refuses the snapshot and keeps the last good one.
  static absl::StatusOr<std::shared_ptr<const MeshView>> Create(
      weft::config::v1::ClusterConfig config, uint64_t version, const std::string& node);

  uint64_t version() const { return version_; }
  const std::string& trust_domain() const { return trust_domain_; }
  const weft::config::v1::ClusterConfig& config() const { return config_; }
  const authz::AuthorizationEvaluator& authorizer() const { return *authorizer_; }

  const WorkloadInfo* WorkloadByUid(const std::string& uid) const;
  const WorkloadInfo* WorkloadByAddress(const std::string& address) const;
  // The service whose VIP is `address` and that exposes `port`; nullptr if none.
  const ServiceInfo* ServiceByVip(const std::string& address, uint16_t port) const;
  // Healthy endpoints of `service` for `port`, each with the address of `family`.
  std::vector<ServiceEndpoint> Endpoints(const ServiceInfo& service, uint16_t port,
                                         int family) const;
  // Identities of this node's mesh workloads: the certificates ztunnel needs.
  std::set<std::string> LocalIdentities() const;

 private:
  MeshView() = default;

  weft::config::v1::ClusterConfig config_;
  uint64_t version_ = 0;
  std::string node_;
  std::string trust_domain_;
  std::unique_ptr<const authz::AuthorizationEvaluator> authorizer_;
  std::vector<WorkloadInfo> workloads_;
  std::vector<ServiceInfo> services_;
  absl::flat_hash_map<std::string, size_t> workload_by_uid_;
  absl::flat_hash_map<std::string, size_t> workload_by_address_;
  absl::flat_hash_map<std::string, size_t> service_by_vip_;
};

// "spiffe://<trust_domain>/ns/<namespace>/sa/<service account, or default>".
std::string WorkloadIdentity(const std::string& trust_domain,
                             const weft::config::v1::Workload& workload);
// The namespace segment of a SPIFFE ID; empty if it is not one of ours.
std::string NamespaceOfIdentity(const std::string& identity);

}  // namespace weft::ztunnel
