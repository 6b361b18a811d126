#include "agent/nodeapi/node_identity_authorizer.h"

#include "absl/strings/str_cat.h"

namespace weft::agent::nodeapi {

std::string TrustDomainOf(const weft::config::v1::ClusterConfig& config) {
  if (config.mesh().trust_domain().empty()) return kDefaultTrustDomain;
  return config.mesh().trust_domain();
}

ca::IdentityAuthorizer NodeIdentityAuthorizer(const config::SnapshotStore* store,
                                              std::string node) {
  return [store, node = std::move(node)](const std::string& identity) -> absl::Status {
    std::shared_ptr<const config::ConfigSnapshot> snapshot = store->Current();
    if (snapshot == nullptr) {
      return absl::PermissionDeniedError(absl::StrCat("no config applied yet, so no workload of ",
                                                      identity, " is known on node ", node));
    }
    const std::string trust_domain = TrustDomainOf(snapshot->config);
    for (const auto& workload : snapshot->config.workloads()) {
      if (workload.node() != node) continue;
      if (identity == absl::StrCat("spiffe://", trust_domain, "/ns/", workload.namespace_(), "/sa/",
                                   workload.service_account())) {
        return absl::OkStatus();
      }
    }
    return absl::PermissionDeniedError(
        absl::StrCat("no workload with identity ", identity, " is scheduled on node ", node));
  };
}

}  // namespace weft::agent::nodeapi
