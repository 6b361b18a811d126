// Checks of AuthorizationPolicy documents.
#include "common/config/validation_context.h"
#include "common/config/value_checks.h"

namespace weft::config {
namespace {

using weft::config::v1::AuthorizationPolicy;
using weft::config::v1::ClusterConfig;
using weft::config::v1::Condition;
using weft::config::v1::Operation;
using weft::config::v1::Source;

using StringList = google::protobuf::RepeatedPtrField<std::string>;
using PortList = google::protobuf::RepeatedField<uint32_t>;

template <typename Checker>
void CheckEach(ValidationContext& ctx, const std::string& path, const StringList& values,
               Checker check) {
  for (int i = 0; i < values.size(); ++i) ctx.Check(Item(path, i), check(values[i]));
}

void CheckPorts(ValidationContext& ctx, const std::string& path, const PortList& ports) {
  for (int i = 0; i < ports.size(); ++i) ctx.Check(Item(path, i), CheckPort(ports[i]));
}

std::string CheckNamespaceOrAny(std::string_view ns) {
  return ns == "*" ? "" : CheckDnsLabel(ns);
}

std::string CheckPathPattern(std::string_view path) {
  if (path == "*" || std::string_view(path).starts_with("/") || std::string_view(path).starts_with("*")) return "";
  return absl::StrCat("expected a path starting with '/' (or a '*' wildcard), got \"",
                      std::string(path), "\"");
}

std::string CheckNonEmpty(std::string_view value) {
  return value.empty() ? "expected a value, got nothing" : "";
}

void ValidateSource(ValidationContext& ctx, const std::string& path, const Source& s) {
  CheckEach(ctx, path + ".principals", s.principals(), CheckPrincipal);
  CheckEach(ctx, path + ".not_principals", s.not_principals(), CheckPrincipal);
  CheckEach(ctx, path + ".namespaces", s.namespaces(), CheckNamespaceOrAny);
  CheckEach(ctx, path + ".not_namespaces", s.not_namespaces(), CheckNamespaceOrAny);
  CheckEach(ctx, path + ".ip_blocks", s.ip_blocks(), CheckIpOrCidr);
  CheckEach(ctx, path + ".not_ip_blocks", s.not_ip_blocks(), CheckIpOrCidr);
}

void ValidateOperation(ValidationContext& ctx, const std::string& path, const Operation& op) {
  CheckPorts(ctx, path + ".ports", op.ports());
  CheckPorts(ctx, path + ".not_ports", op.not_ports());
  CheckEach(ctx, path + ".methods", op.methods(), CheckHttpMethod);
  CheckEach(ctx, path + ".not_methods", op.not_methods(), CheckHttpMethod);
  CheckEach(ctx, path + ".paths", op.paths(), CheckPathPattern);
  CheckEach(ctx, path + ".not_paths", op.not_paths(), CheckPathPattern);
  CheckEach(ctx, path + ".hosts", op.hosts(), CheckNonEmpty);
  CheckEach(ctx, path + ".not_hosts", op.not_hosts(), CheckNonEmpty);
}

// Condition keys the evaluators understand; anything else would silently never
// match, so it is refused here.
std::string CheckConditionKey(std::string_view key) {
  static constexpr std::string_view kKeys[] = {
      "source.ip",      "source.namespace", "source.principal", "destination.ip",
      "destination.port", "request.method", "request.path",     "request.host",
  };
  for (std::string_view k : kKeys) {
    if (key == k) return "";
  }
  constexpr std::string_view kHeader = "request.headers[";
  if (std::string_view(key).starts_with(kHeader) && std::string_view(key).ends_with("]") &&
      key.size() > kHeader.size() + 1) {
    return CheckHeaderName(key.substr(kHeader.size(), key.size() - kHeader.size() - 1));
  }
  return absl::StrCat(
      "expected a condition key such as \"source.ip\", \"destination.port\" or "
      "\"request.headers[name]\", got \"",
      std::string(key), "\"");
}

void ValidateCondition(ValidationContext& ctx, const std::string& path, const Condition& c) {
  ctx.Check(path + ".key", CheckConditionKey(c.key()));
  if (c.values_size() == 0 && c.not_values_size() == 0) {
    ctx.Error(path + ".values", "expected at least one value or not_value, got none");
  }
}

}  // namespace

void ValidateAuthorizationPolicies(ValidationContext& ctx, const ClusterConfig& config) {
  for (int i = 0; i < config.authorization_policies_size(); ++i) {
    const AuthorizationPolicy& p = config.authorization_policies(i);
    std::string path = Item("authorization_policies", i);
    ctx.CheckObjectName(path, "authorization policy", p.namespace_(), p.name());
    if (p.has_selector()) {
      ctx.CheckSelectorMatches(path + ".selector.match_labels", p.namespace_(),
                               p.selector().match_labels());
    }
    for (int r = 0; r < p.rules_size(); ++r) {
      const auto& rule = p.rules(r);
      std::string rpath = Item(path + ".rules", r);
      for (int j = 0; j < rule.from_size(); ++j) {
        ValidateSource(ctx, Item(rpath + ".from", j), rule.from(j));
      }
      for (int j = 0; j < rule.to_size(); ++j) {
        ValidateOperation(ctx, Item(rpath + ".to", j), rule.to(j));
      }
      for (int j = 0; j < rule.when_size(); ++j) {
        ValidateCondition(ctx, Item(rpath + ".when", j), rule.when(j));
      }
    }
  }
}

}  // namespace weft::config
