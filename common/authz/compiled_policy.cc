#include "common/authz/compiled_policy.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace weft::authz {
namespace {

using weft::config::v1::AuthorizationPolicy;

// Kleene logic: kNo < kUnknown < kYes, so OR is max and AND is min.
Match Or(Match a, Match b) { return std::max(a, b); }
Match And(Match a, Match b) { return std::min(a, b); }
Match FromBool(bool b) { return b ? Match::kYes : Match::kNo; }

bool NamespaceMatches(const std::string& pattern, const std::optional<std::string>& ns) {
  return ns.has_value() && (pattern == "*" || pattern == *ns);
}

// Positive values: empty list matches; else the attribute is present and one
// value matches. Negative values: the attribute is absent or matches none.
template <typename Pattern, typename Attr, typename Pred>
bool FieldMatches(const std::vector<Pattern>& values, const std::vector<Pattern>& not_values,
                  const Attr& attr, Pred matches) {
  if (!values.empty() && std::none_of(values.begin(), values.end(),
                                      [&](const Pattern& p) { return matches(p, attr); })) {
    return false;
  }
  return std::none_of(not_values.begin(), not_values.end(),
                      [&](const Pattern& p) { return matches(p, attr); });
}

bool PrincipalIn(const PrincipalPattern& p, const std::optional<std::string>& principal) {
  return principal.has_value() && p.Matches(*principal);
}
bool PrefixHas(const IpPrefix& p, const std::optional<IpAddress>& ip) {
  return ip.has_value() && p.Contains(*ip);
}
bool PortIs(uint16_t p, uint16_t port) { return p == port; }

template <typename T, typename Parse>
absl::Status ParseAll(const google::protobuf::RepeatedPtrField<std::string>& in,
                      std::vector<T>& out, const std::string& path, Parse parse) {
  for (int i = 0; i < in.size(); ++i) {
    absl::StatusOr<T> v = parse(in[i]);
    if (!v.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, "[", i, "]: ", v.status().message()));
    }
    out.push_back(*std::move(v));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint16_t> ParsePort(const std::string& text) {
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text, &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("expected a port 1-65535, got \"", text, "\""));
  }
  return static_cast<uint16_t>(port);
}

std::vector<uint16_t> ToPorts(const google::protobuf::RepeatedField<uint32_t>& in) {
  // Validation keeps ports in 1-65535; anything else can never equal a real port.
  std::vector<uint16_t> out;
  for (uint32_t p : in) {
    if (p >= 1 && p <= 65535) out.push_back(static_cast<uint16_t>(p));
  }
  return out;
}

}  // namespace

namespace {

// Splits "spiffe://td/ns/<ns>/sa/<sa>" without allocating: principals are parsed
// on every evaluation.
bool SplitSpiffe(std::string_view text, std::string_view& td, std::string_view& ns,
                 std::string_view& sa) {
  constexpr std::string_view kScheme = "spiffe://";
  if (!text.starts_with(kScheme)) return false;
  text.remove_prefix(kScheme.size());
  std::string_view parts[5];
  for (int i = 0; i < 5; ++i) {
    const size_t slash = i < 4 ? text.find('/') : std::string_view::npos;
    if (i < 4 && slash == std::string_view::npos) return false;
    parts[i] = text.substr(0, slash);
    if (i < 4) text.remove_prefix(slash + 1);
  }
  if (parts[1] != "ns" || parts[3] != "sa" || parts[4].find('/') != std::string_view::npos) {
    return false;
  }
  td = parts[0];
  ns = parts[2];
  sa = parts[4];
  return true;
}

}  // namespace

PrincipalPattern PrincipalPattern::Parse(std::string_view text) {
  PrincipalPattern p;
  p.raw = std::string(text);
  if (text == "*") {
    p.any = true;
    return p;
  }
  std::string_view td, ns, sa;
  if (!SplitSpiffe(text, td, ns, sa)) return p;
  p.spiffe = true;
  p.trust_domain = std::string(td);
  p.ns = std::string(ns);
  p.sa = std::string(sa);
  return p;
}

bool PrincipalPattern::Matches(const std::string& principal) const {
  if (any) return true;
  if (!spiffe) return principal == raw;
  std::string_view td, peer_ns, peer_sa;
  if (!SplitSpiffe(principal, td, peer_ns, peer_sa)) return false;
  return td == trust_domain && (ns == "*" || ns == peer_ns) && (sa == "*" || sa == peer_sa);
}

absl::StatusOr<std::unique_ptr<CompiledPolicy>> CompiledPolicy::Create(
    const AuthorizationPolicy& policy) {
  std::unique_ptr<CompiledPolicy> out(new CompiledPolicy(policy));
  for (int r = 0; r < policy.rules_size(); ++r) {
    absl::Status s = out->CompileRule(policy.rules(r), absl::StrCat("rules[", r, "]"));
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("authorization policy ", policy.namespace_(),
                                                     "/", policy.name(), ": ", s.message()));
    }
  }
  std::sort(out->ports_.begin(), out->ports_.end());
  out->ports_.erase(std::unique(out->ports_.begin(), out->ports_.end()), out->ports_.end());
  return out;
}

absl::Status CompiledPolicy::CompileRule(const weft::config::v1::Rule& rule,
                                         const std::string& path) {
  Rule out;
  for (int i = 0; i < rule.from_size(); ++i) {
    const auto& f = rule.from(i);
    const std::string fpath = absl::StrCat(path, ".from[", i, "]");
    Source s;
    for (const auto& p : f.principals()) s.principals.push_back(PrincipalPattern::Parse(p));
    for (const auto& p : f.not_principals()) s.not_principals.push_back(PrincipalPattern::Parse(p));
    s.namespaces.assign(f.namespaces().begin(), f.namespaces().end());
    s.not_namespaces.assign(f.not_namespaces().begin(), f.not_namespaces().end());
    if (auto st = ParseAll(f.ip_blocks(), s.ip_blocks, fpath + ".ip_blocks", IpPrefix::Parse);
        !st.ok()) {
      return st;
    }
    if (auto st =
            ParseAll(f.not_ip_blocks(), s.not_ip_blocks, fpath + ".not_ip_blocks", IpPrefix::Parse);
        !st.ok()) {
      return st;
    }
    out.from.push_back(std::move(s));
  }
  for (const auto& t : rule.to()) {
    Operation op;
    op.ports = ToPorts(t.ports());
    op.not_ports = ToPorts(t.not_ports());
    op.has_l7 = t.methods_size() + t.not_methods_size() + t.paths_size() + t.not_paths_size() +
                    t.hosts_size() + t.not_hosts_size() >
                0;
    ports_.insert(ports_.end(), op.ports.begin(), op.ports.end());
    ports_.insert(ports_.end(), op.not_ports.begin(), op.not_ports.end());
    out.to.push_back(std::move(op));
  }
  for (int i = 0; i < rule.when_size(); ++i) {
    const auto& w = rule.when(i);
    const std::string wpath = absl::StrCat(path, ".when[", i, "]");
    Condition c;
    absl::Status st;
    if (w.key() == "source.ip" || w.key() == "destination.ip") {
      c.key = w.key() == "source.ip" ? Key::kSourceIp : Key::kDestinationIp;
      uses_destination_ip_ |= c.key == Key::kDestinationIp;
      st = ParseAll(w.values(), c.ips, wpath + ".values", IpPrefix::Parse);
      if (st.ok()) st = ParseAll(w.not_values(), c.not_ips, wpath + ".not_values", IpPrefix::Parse);
    } else if (w.key() == "destination.port") {
      c.key = Key::kDestinationPort;
      st = ParseAll(w.values(), c.ports, wpath + ".values", ParsePort);
      if (st.ok()) st = ParseAll(w.not_values(), c.not_ports, wpath + ".not_values", ParsePort);
      ports_.insert(ports_.end(), c.ports.begin(), c.ports.end());
      ports_.insert(ports_.end(), c.not_ports.begin(), c.not_ports.end());
    } else if (w.key() == "source.principal") {
      c.key = Key::kSourcePrincipal;
      for (const auto& v : w.values()) c.principals.push_back(PrincipalPattern::Parse(v));
      for (const auto& v : w.not_values()) c.not_principals.push_back(PrincipalPattern::Parse(v));
    } else if (w.key() == "source.namespace") {
      c.key = Key::kSourceNamespace;
      c.namespaces.assign(w.values().begin(), w.values().end());
      c.not_namespaces.assign(w.not_values().begin(), w.not_values().end());
    } else {
      // request.* (and any key the validator lets through later): only L7 can tell.
      c.key = Key::kL7;
    }
    if (!st.ok()) return st;
    out.when.push_back(std::move(c));
  }
  rules_.push_back(std::move(out));
  return absl::OkStatus();
}

AuthorizationPolicy::Action CompiledPolicy::action() const {
  return proto_.action() == AuthorizationPolicy::ACTION_UNSPECIFIED ? AuthorizationPolicy::ALLOW
                                                                    : proto_.action();
}

bool CompiledPolicy::AppliesTo(const DestinationWorkload& destination) const {
  if (proto_.namespace_() != destination.namespace_) return false;
  for (const auto& [key, value] : proto_.selector().match_labels()) {
    auto it = destination.labels.find(key);
    if (it == destination.labels.end() || it->second != value) return false;
  }
  return true;
}

bool CompiledPolicy::SourceMatches(const Source& s, const ConnectionAttributes& c) {
  const std::optional<IpAddress> ip = c.source_ip;
  return FieldMatches(s.principals, s.not_principals, c.source_principal, PrincipalIn) &&
         FieldMatches(s.namespaces, s.not_namespaces, c.source_namespace, NamespaceMatches) &&
         FieldMatches(s.ip_blocks, s.not_ip_blocks, ip, PrefixHas);
}

Match CompiledPolicy::OperationMatches(const Operation& op, const ConnectionAttributes& c) {
  if (!FieldMatches(op.ports, op.not_ports, c.destination_port, PortIs)) return Match::kNo;
  return op.has_l7 ? Match::kUnknown : Match::kYes;
}

Match CompiledPolicy::ConditionMatches(const Condition& cond, const ConnectionAttributes& c) {
  switch (cond.key) {
    case Key::kSourceIp:
      return FromBool(FieldMatches(cond.ips, cond.not_ips, std::optional(c.source_ip), PrefixHas));
    case Key::kDestinationIp:
      return FromBool(FieldMatches(cond.ips, cond.not_ips, c.destination_ip, PrefixHas));
    case Key::kDestinationPort:
      return FromBool(FieldMatches(cond.ports, cond.not_ports, c.destination_port, PortIs));
    case Key::kSourcePrincipal:
      return FromBool(
          FieldMatches(cond.principals, cond.not_principals, c.source_principal, PrincipalIn));
    case Key::kSourceNamespace:
      return FromBool(
          FieldMatches(cond.namespaces, cond.not_namespaces, c.source_namespace, NamespaceMatches));
    case Key::kL7:
      return Match::kUnknown;
  }
  return Match::kUnknown;
}

Match CompiledPolicy::RuleMatches(const Rule& rule, const ConnectionAttributes& c) {
  Match result = Match::kYes;
  if (!rule.from.empty()) {
    bool any = std::any_of(rule.from.begin(), rule.from.end(),
                           [&](const Source& s) { return SourceMatches(s, c); });
    result = And(result, FromBool(any));
  }
  if (!rule.to.empty()) {
    Match any = Match::kNo;
    for (const Operation& op : rule.to) any = Or(any, OperationMatches(op, c));
    result = And(result, any);
  }
  for (const Condition& cond : rule.when) result = And(result, ConditionMatches(cond, c));
  return result;
}

Match CompiledPolicy::Evaluate(const ConnectionAttributes& connection) const {
  Match result = Match::kNo;
  for (const Rule& rule : rules_) {
    result = Or(result, RuleMatches(rule, connection));
    if (result == Match::kYes) break;
  }
  return result;
}

}  // namespace weft::authz
