#include "common/authz/authorization_evaluator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/authz/compiled_policy.h"

namespace weft::authz {
namespace {

using weft::config::v1::AuthorizationPolicy;

Decision Decide(Verdict verdict, const CompiledPolicy* policy, int index, std::string reason) {
  Decision d;
  d.verdict = verdict;
  d.reason = std::move(reason);
  if (policy != nullptr) {
    d.policy_index = index;
    d.policy_namespace = policy->proto().namespace_();
    d.policy_name = policy->proto().name();
  }
  return d;
}

}  // namespace

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAllow:
      return "ALLOW";
    case Verdict::kDeny:
      return "DENY";
    case Verdict::kNeedsL7:
      return "NEEDS_L7";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<const AuthorizationEvaluator>> AuthorizationEvaluator::Create(
    const weft::config::v1::ClusterConfig& config) {
  std::vector<std::unique_ptr<CompiledPolicy>> policies;
  policies.reserve(config.authorization_policies_size());
  for (const AuthorizationPolicy& p : config.authorization_policies()) {
    absl::StatusOr<std::unique_ptr<CompiledPolicy>> compiled = CompiledPolicy::Create(p);
    if (!compiled.ok()) return compiled.status();
    policies.push_back(*std::move(compiled));
  }
  return std::unique_ptr<const AuthorizationEvaluator>(
      new AuthorizationEvaluator(std::move(policies)));
}

AuthorizationEvaluator::AuthorizationEvaluator(
    std::vector<std::unique_ptr<CompiledPolicy>> policies)
    : policies_(std::move(policies)) {
  for (int i = 0; i < static_cast<int>(policies_.size()); ++i) {
    if (policies_[i]->action() == AuthorizationPolicy::AUDIT) continue;
    by_namespace_[policies_[i]->proto().namespace_()].push_back(i);
  }
}

AuthorizationEvaluator::~AuthorizationEvaluator() = default;

const AuthorizationPolicy& AuthorizationEvaluator::policy(int index) const {
  return policies_[index]->proto();
}

int AuthorizationEvaluator::policy_count() const { return static_cast<int>(policies_.size()); }

std::vector<int> AuthorizationEvaluator::ApplicablePolicies(
    const DestinationWorkload& destination) const {
  std::vector<int> out;
  auto it = by_namespace_.find(destination.namespace_);
  if (it == by_namespace_.end()) return out;
  for (int i : it->second) {
    if (policies_[i]->AppliesTo(destination)) out.push_back(i);
  }
  return out;
}

bool AuthorizationEvaluator::UsesDestinationIp(const std::vector<int>& policy_indices) const {
  return std::any_of(policy_indices.begin(), policy_indices.end(),
                     [&](int i) { return policies_[i]->uses_destination_ip(); });
}

std::vector<uint16_t> AuthorizationEvaluator::MentionedPorts(
    const DestinationWorkload& destination) const {
  std::vector<uint16_t> out;
  for (int i : ApplicablePolicies(destination)) {
    const auto& ports = policies_[i]->mentioned_ports();
    out.insert(out.end(), ports.begin(), ports.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Decision AuthorizationEvaluator::Evaluate(const ConnectionAttributes& connection) const {
  // First DENY that is unknown at L4, first ALLOW that matches / is unknown.
  int deny_unknown = -1, allow_yes = -1, allow_unknown = -1;
  bool any_allow = false;
  auto ns = by_namespace_.find(connection.destination.namespace_);
  if (ns == by_namespace_.end())
    return Decide(Verdict::kAllow, nullptr, -1, "no ALLOW policy applies");
  for (int i : ns->second) {
    const CompiledPolicy& p = *policies_[i];
    if (!p.AppliesTo(connection.destination)) continue;
    const bool is_deny = p.action() == AuthorizationPolicy::DENY;
    if (!is_deny) {
      any_allow = true;
      if (allow_yes >= 0) continue;  // an ALLOW already grants; only a DENY can change that
    }
    const Match m = p.Evaluate(connection);
    if (is_deny && m == Match::kYes) {
      return Decide(Verdict::kDeny, &p, i, "a DENY policy matches");
    }
    if (m != Match::kUnknown && m != Match::kYes) continue;
    int& slot = is_deny ? deny_unknown : (m == Match::kYes ? allow_yes : allow_unknown);
    if (slot < 0) slot = i;
  }
  // The outcome if every unknown DENY turns out not to match.
  Decision without_deny;
  if (!any_allow) {
    without_deny = Decide(Verdict::kAllow, nullptr, -1, "no ALLOW policy applies");
  } else if (allow_yes >= 0) {
    without_deny =
        Decide(Verdict::kAllow, policies_[allow_yes].get(), allow_yes, "an ALLOW policy matches");
  } else if (allow_unknown >= 0) {
    without_deny = Decide(Verdict::kNeedsL7, policies_[allow_unknown].get(), allow_unknown,
                          "only an ALLOW policy with L7 conditions could allow");
  } else {
    without_deny = Decide(Verdict::kDeny, nullptr, -1, "no ALLOW policy matches");
  }
  if (deny_unknown >= 0 && without_deny.verdict != Verdict::kDeny) {
    return Decide(Verdict::kNeedsL7, policies_[deny_unknown].get(), deny_unknown,
                  "a DENY policy matches at L4 but has L7 conditions");
  }
  return without_deny;
}

}  // namespace weft::authz
