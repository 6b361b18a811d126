// One AuthorizationPolicy with every value parsed up front (CIDRs, SPIFFE
// patterns, ports), matched against a connection in three-valued logic: an entry
// with L7 fields whose L4 part matches is kUnknown at L4. Internal to the
// evaluator; see authorization_evaluator.h for the semantics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/authz/authorization_evaluator.h"
#include "common/authz/ip_prefix.h"
#include "weft/config/v1/config.pb.h"

namespace weft::authz {

enum class Match : uint8_t { kNo, kUnknown, kYes };

// "spiffe://td/ns/<ns|*>/sa/<sa|*>" or "*". Anything else compares as a string.
struct PrincipalPattern {
  bool any = false;
  bool spiffe = false;
  std::string raw, trust_domain, ns, sa;

  static PrincipalPattern Parse(std::string_view text);
  bool Matches(const std::string& principal) const;
};

class CompiledPolicy {
 public:
  static absl::StatusOr<std::unique_ptr<CompiledPolicy>> Create(
      const weft::config::v1::AuthorizationPolicy& policy);

  const weft::config::v1::AuthorizationPolicy& proto() const { return proto_; }
  weft::config::v1::AuthorizationPolicy::Action action() const;
  bool AppliesTo(const DestinationWorkload& destination) const;
  Match Evaluate(const ConnectionAttributes& connection) const;
  const std::vector<uint16_t>& mentioned_ports() const { return ports_; }
  bool uses_destination_ip() const { return uses_destination_ip_; }

 private:
  struct Source {
    std::vector<PrincipalPattern> principals, not_principals;
    std::vector<std::string> namespaces, not_namespaces;
    std::vector<IpPrefix> ip_blocks, not_ip_blocks;
  };
  struct Operation {
    std::vector<uint16_t> ports, not_ports;
    bool has_l7 = false;
  };
  enum class Key : uint8_t {
    kSourceIp,
    kSourceNamespace,
    kSourcePrincipal,
    kDestinationPort,
    kDestinationIp,
    kL7
  };
  struct Condition {
    Key key = Key::kL7;
    std::vector<IpPrefix> ips, not_ips;
    std::vector<uint16_t> ports, not_ports;
    std::vector<PrincipalPattern> principals, not_principals;
    std::vector<std::string> namespaces, not_namespaces;
  };
  struct Rule {
    std::vector<Source> from;
    std::vector<Operation> to;
    std::vector<Condition> when;
  };

  explicit CompiledPolicy(weft::config::v1::AuthorizationPolicy proto) : proto_(std::move(proto)) {}
  absl::Status CompileRule(const weft::config::v1::Rule& rule, const std::string& path);

  static bool SourceMatches(const Source& s, const ConnectionAttributes& c);
  static Match OperationMatches(const Operation& op, const ConnectionAttributes& c);
  static Match ConditionMatches(const Condition& cond, const ConnectionAttributes& c);
  static Match RuleMatches(const Rule& rule, const ConnectionAttributes& c);

  weft::config::v1::AuthorizationPolicy proto_;
  std::vector<Rule> rules_;
  std::vector<uint16_t> ports_;  // every port the policy mentions, sorted, unique
  bool uses_destination_ip_ = false;
};

}  // namespace weft::authz
