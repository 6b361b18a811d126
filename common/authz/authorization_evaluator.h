// The L4 authorization reference evaluator: one semantics for the agent's kernel
// policy compiler and for ztunnel's authoritative check. Built once per config
// snapshot (immutable afterwards, safe to share between threads).
//
// Semantics (the architecture's, made exact):
// - A policy applies to a destination workload when the namespaces are equal and
//   its selector's labels are a subset of the workload's (no selector: every
//   workload of the namespace).
// - Rules are ORed; a rule's from/to/when lists are ANDed; the entries of a list
//   are ORed; inside one entry the fields are ANDed and a field's values are ORed.
//   not_ fields match when the attribute is absent or matches none of the values.
//   A rule with no from/to/when matches everything; a policy with no rules
//   matches nothing.
// - "*" as a principal or namespace means "any authenticated peer": a plaintext
//   connection (no principal, no namespace) does not match it. SPIFFE patterns
//   may use "*" for the namespace and service-account segments.
// - L7 fields (methods, paths, hosts, their not_ forms, `when` on request.*) are
//   unknown at L4: an entry whose L4 part matches but that has L7 fields is
//   UNKNOWN, and unknowns combine in three-valued (Kleene) logic.
// - Decision over ALLOW and DENY policies (AUDIT never changes it):
//     any DENY matches                      -> DENY
//     a DENY is UNKNOWN and the result
//       without it would not be DENY        -> NEEDS_L7
//     no ALLOW policy applies               -> ALLOW
//     an ALLOW matches                      -> ALLOW
//     an ALLOW is UNKNOWN                   -> NEEDS_L7
//     otherwise                             -> DENY
//   So NEEDS_L7 means exactly: "some assignment of the L7 unknowns allows and
//   another denies". An ALLOW rule with L7 fields never grants at L4, and a
//   DENY rule with L7 fields never denies at L4; when the outcome is DENY either
//   way it is DENY. Whoever cannot run L7 enforcement for a NEEDS_L7 connection
//   (ztunnel without a waypoint) must refuse it: fail closed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/authz/ip_prefix.h"
#include "weft/config/v1/config.pb.h"

namespace weft::authz {

struct DestinationWorkload {
  std::string namespace_;
  std::map<std::string, std::string> labels;
};

struct ConnectionAttributes {
  // Absent for plaintext (no verified identity); then source_namespace is too.
  std::optional<std::string> source_principal;
  std::optional<std::string> source_namespace;
  IpAddress source_ip;
  DestinationWorkload destination;
  std::optional<IpAddress> destination_ip;  // for `when destination.ip`; absent matches no value
  uint16_t destination_port = 0;
};

enum class Verdict : uint8_t { kAllow, kDeny, kNeedsL7 };
const char* VerdictName(Verdict verdict);

struct Decision {
  Verdict verdict = Verdict::kDeny;
  // The policy that decided (index into the snapshot's authorization_policies),
  // -1 when the default decided (no ALLOW policy applies, or none matched).
  int policy_index = -1;
  std::string policy_namespace;
  std::string policy_name;
  std::string reason;
};

class CompiledPolicy;

class AuthorizationEvaluator {
 public:
  // Fails when a value the validator does not check cannot be read (a `when`
  // value of source.ip/destination.ip/destination.port), naming the policy.
  static absl::StatusOr<std::unique_ptr<const AuthorizationEvaluator>> Create(
      const weft::config::v1::ClusterConfig& config);
  ~AuthorizationEvaluator();

  Decision Evaluate(const ConnectionAttributes& connection) const;

  // Indices of the ALLOW and DENY policies that apply to `destination`.
  std::vector<int> ApplicablePolicies(const DestinationWorkload& destination) const;
  // Every port an applicable ALLOW/DENY policy mentions (ports, not_ports,
  // `when destination.port`), sorted. All other ports are decided alike.
  std::vector<uint16_t> MentionedPorts(const DestinationWorkload& destination) const;

  // Whether any of these policies looks at the destination address (`when
  // destination.ip`). If none does, a connection's decision depends on the
  // destination only through which policies apply to it.
  bool UsesDestinationIp(const std::vector<int>& policy_indices) const;

  const weft::config::v1::AuthorizationPolicy& policy(int index) const;
  int policy_count() const;

 private:
  explicit AuthorizationEvaluator(std::vector<std::unique_ptr<CompiledPolicy>> policies);

  std::vector<std::unique_ptr<CompiledPolicy>> policies_;
  // namespace -> indices of its ALLOW/DENY policies; AUDIT ones are never looked at.
  absl::flat_hash_map<std::string, std::vector<int>> by_namespace_;
};

}  // namespace weft::authz
