// Compiles a config snapshot's AuthorizationPolicy set into the exact contents of
// the in-kernel policy maps (bpf/policy.h) for the enrolled pods of this node.
// Every verdict is computed by the reference evaluator (common/authz), so kernel
// and ztunnel share one semantics; what the kernel cannot decide exactly is left
// out (a miss is DEFER: ztunnel decides, fail closed) and reported.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "bpf/policy.h"
#include "common/authz/authorization_evaluator.h"
#include "weft/config/v1/config.pb.h"

namespace weft::bpf::policy {

// An enrolled pod on this node, as a connection source.
struct SourceWorkload {
  uint32_t workload_id = 0;  // the id connect4/6 passes to the lookup
  std::string namespace_;
  std::string service_account;
  std::vector<std::string> addresses;  // the source IP of a connection is the one of its family
};

struct PolicyCapacity {
  size_t dst_v4 = WEFT_POLICY_MAX_DST_V4;
  size_t dst_v6 = WEFT_POLICY_MAX_DST_V6;
  size_t verdicts = WEFT_POLICY_MAX_VERDICTS;
};

// Why some connections are left to ztunnel although the policy could decide
// them, or need L7. The caller logs each once and counts `entries`.
struct CompileIssue {
  std::string policy_namespace;  // empty when no single policy is to blame
  std::string policy_name;
  std::string reason;
  size_t entries = 0;  // verdict entries (or addresses) affected
};

struct CompiledPolicyMaps {
  std::vector<std::pair<weft_policy_dst_v4_key, weft_policy_dst_value>> dst_v4;
  std::vector<std::pair<weft_policy_dst_v6_key, weft_policy_dst_value>> dst_v6;
  std::vector<std::pair<weft_policy_verdict_key, weft_policy_verdict_value>> verdicts;
  // policy_id - 1 -> "namespace/name", for decoding counters and dumps.
  std::vector<std::string> policy_names;
  // Mesh destination address (IpAddress::ToString()) -> dst_id. One id per
  // workload address, derived from uid + address: stable across snapshots.
  absl::flat_hash_map<std::string, uint32_t> destination_ids;
  // (src_workload_id, dst_id) pairs the kernel leaves to ztunnel although the
  // reference decides them at L4 (maps full, verdict differs per source address).
  std::set<std::pair<uint32_t, uint32_t>> deferred;
  std::vector<CompileIssue> issues;
};

class PolicyCompiler {
 public:
  static absl::StatusOr<std::unique_ptr<PolicyCompiler>> Create(
      const weft::config::v1::ClusterConfig& snapshot);

  CompiledPolicyMaps Compile(const std::vector<SourceWorkload>& sources,
                             const PolicyCapacity& capacity) const;

  const authz::AuthorizationEvaluator& evaluator() const { return *evaluator_; }

  // A destination the kernel may decide for: an HBONE workload (explicitly, or
  // by default in a namespace labelled weft.dev/dataplane-mode=ambient without
  // the pod opting out). Anything else is not policed by a destination ztunnel.
  static bool IsMeshDestination(const weft::config::v1::ClusterConfig& snapshot,
                                const weft::config::v1::Workload& workload);
  // Inbound traffic of such a workload goes through its waypoint, and the
  // destination ztunnel sees the waypoint's identity, not the client's: the
  // kernel, which only knows the client, leaves it alone (DEFER).
  static bool UsesWaypoint(const weft::config::v1::ClusterConfig& snapshot,
                           const weft::config::v1::Workload& workload);
  static std::string Principal(const std::string& trust_domain, const std::string& ns,
                               const std::string& service_account);

 private:
  PolicyCompiler(const weft::config::v1::ClusterConfig& snapshot,
                 std::unique_ptr<const authz::AuthorizationEvaluator> evaluator)
      : snapshot_(snapshot), evaluator_(std::move(evaluator)) {}

  weft::config::v1::ClusterConfig snapshot_;
  std::unique_ptr<const authz::AuthorizationEvaluator> evaluator_;
};

}  // namespace weft::bpf::policy
