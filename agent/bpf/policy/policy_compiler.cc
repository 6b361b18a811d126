#include "agent/bpf/policy/policy_compiler.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/config/dataplane_mode.h"

namespace weft::bpf::policy {
namespace {

using authz::AuthorizationEvaluator;
using authz::ConnectionAttributes;
using authz::Decision;
using authz::IpAddress;
using authz::Verdict;
using weft::config::v1::ClusterConfig;
using weft::config::v1::Workload;


struct Source {
  const SourceWorkload* workload;
  std::string principal;
  std::vector<IpAddress> addresses;
};

struct Destination {
  const Workload* workload;
  uint32_t id = 0;
  authz::DestinationWorkload attributes;
  std::vector<IpAddress> addresses;  // one: the address this destination id stands for
};

using IssueCounts = std::map<std::pair<int, std::string>, size_t>;  // (policy, reason) -> n

// What one destination compiles to; admitted whole or not at all.
struct DestinationEntries {
  std::vector<std::pair<weft_policy_dst_v4_key, weft_policy_dst_value>> v4;
  std::vector<std::pair<weft_policy_dst_v6_key, weft_policy_dst_value>> v6;
  std::vector<std::pair<weft_policy_verdict_key, weft_policy_verdict_value>> verdicts;
  std::set<uint32_t> deferred_sources;
  IssueCounts issues;
};

// The verdict entries of every destination that shares an equivalence class
// (same applicable policies, same address family, and the same address if a
// policy looks at it): the evaluator cannot tell such destinations apart, so
// they are evaluated once. Keeps compiling linear in destinations.
struct ClassVerdicts {
  struct PerSource {
    uint32_t src_workload_id;
    std::vector<std::pair<uint16_t, weft_policy_verdict_value>> entries;  // port 0 = any
  };
  std::vector<PerSource> sources;
  std::set<uint32_t> deferred_sources;
  IssueCounts issues;
};

std::vector<IpAddress> ParseAddresses(const google::protobuf::RepeatedPtrField<std::string>& in) {
  std::vector<IpAddress> out;
  for (const std::string& a : in) {
    absl::StatusOr<IpAddress> ip = IpAddress::Parse(a);
    if (ip.ok()) out.push_back(*ip);  // validated at the edge; a bad one cannot be reached anyway
  }
  return out;
}

uint32_t Fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return h;
}

weft_policy_verdict_value ToValue(const Decision& d) {
  weft_policy_verdict_value v{};
  v.verdict = d.verdict == Verdict::kAllow  ? WEFT_POLICY_ALLOW
              : d.verdict == Verdict::kDeny ? WEFT_POLICY_DENY
                                            : WEFT_POLICY_DEFER;
  v.policy_id = d.policy_index < 0 ? 0 : static_cast<uint32_t>(d.policy_index) + 1;
  return v;
}

bool SameValue(const weft_policy_verdict_value& a, const weft_policy_verdict_value& b) {
  return a.verdict == b.verdict && a.policy_id == b.policy_id;
}

// The verdict of (source, destination, port) over every source address of the
// destination address's family; nullopt when the source has none. `c` carries the
// source identity and the destination workload; addresses and port are set here.
std::optional<weft_policy_verdict_value> Cell(const AuthorizationEvaluator& evaluator,
                                              const Source& src, const Destination& dst,
                                              uint16_t port, ConnectionAttributes& c,
                                              ClassVerdicts& out) {
  std::optional<Decision> first;
  bool differs = false;
  c.destination_port = port;
  for (const IpAddress& d : dst.addresses) {
    for (const IpAddress& a : src.addresses) {
      if (a.family != d.family) continue;
      c.source_ip = a;
      c.destination_ip = d;
      Decision decision = evaluator.Evaluate(c);
      if (!first) {
        first = std::move(decision);
      } else if (decision.verdict != first->verdict ||
                 decision.policy_index != first->policy_index) {
        differs = true;
      }
    }
  }
  if (!first) return std::nullopt;
  if (differs) {
    out.deferred_sources.insert(src.workload->workload_id);
    ++out.issues[{first->policy_index,
                  "verdict differs between the source's addresses of one family (source.ip "
                  "conditions); left to ztunnel"}];
    return weft_policy_verdict_value{};
  }
  if (first->verdict == Verdict::kNeedsL7) {
    ++out.issues[{first->policy_index, "needs L7 enforcement (L7 fields); left to ztunnel"}];
  }
  return ToValue(*first);
}

ClassVerdicts CompileClass(const AuthorizationEvaluator& evaluator,
                           const std::vector<Source>& sources, const Destination& dst) {
  ClassVerdicts out;
  // Only membership in these ports can tell ports apart; every other port is
  // decided like `wildcard`.
  const std::vector<uint16_t> ports = evaluator.MentionedPorts(dst.attributes);
  uint16_t wildcard = 1;
  while (std::binary_search(ports.begin(), ports.end(), wildcard)) ++wildcard;

  ConnectionAttributes c;
  c.destination = dst.attributes;
  for (const Source& src : sources) {
    c.source_principal = src.principal;
    c.source_namespace = src.workload->namespace_;
    std::optional<weft_policy_verdict_value> any = Cell(evaluator, src, dst, wildcard, c, out);
    if (!any) continue;
    ClassVerdicts::PerSource& per = out.sources.emplace_back();
    per.src_workload_id = src.workload->workload_id;
    // A missing port-0 entry is already DEFER.
    if (any->verdict != WEFT_POLICY_DEFER) per.entries.emplace_back(0, *any);
    for (uint16_t port : ports) {
      std::optional<weft_policy_verdict_value> v = Cell(evaluator, src, dst, port, c, out);
      if (v && !SameValue(*v, *any)) per.entries.emplace_back(port, *v);
    }
  }
  return out;
}

DestinationEntries CompileDestination(const AuthorizationEvaluator& evaluator,
                                      const std::vector<Source>& sources, const Destination& dst,
                                      std::map<std::string, ClassVerdicts>& classes) {
  DestinationEntries out;
  weft_policy_dst_value value{dst.id, 0};
  const std::vector<int> applicable = evaluator.ApplicablePolicies(dst.attributes);
  if (applicable.empty()) value.flags = WEFT_POLICY_DST_OPEN;
  const IpAddress& a = dst.addresses.front();
  if (a.is_v4()) {
    weft_policy_dst_v4_key k{};
    std::memcpy(&k.addr, a.bytes.data(), 4);
    out.v4.emplace_back(k, value);
  } else {
    weft_policy_dst_v6_key k{};
    std::memcpy(k.addr, a.bytes.data(), 16);
    out.v6.emplace_back(k, value);
  }
  if (applicable.empty()) return out;

  std::string class_key = a.is_v4() ? "4" : "6";
  for (int i : applicable) absl::StrAppend(&class_key, ",", i);
  if (evaluator.UsesDestinationIp(applicable)) absl::StrAppend(&class_key, "@", a.ToString());
  auto it = classes.find(class_key);
  if (it == classes.end()) {
    it = classes.emplace(class_key, CompileClass(evaluator, sources, dst)).first;
  }
  const ClassVerdicts& cls = it->second;
  for (const ClassVerdicts::PerSource& per : cls.sources) {
    weft_policy_verdict_key key{};
    key.src_workload_id = per.src_workload_id;
    key.dst_id = dst.id;
    for (const auto& [port, v] : per.entries) {
      key.dst_port = port;
      out.verdicts.emplace_back(key, v);
    }
  }
  out.deferred_sources = cls.deferred_sources;
  out.issues = cls.issues;
  return out;
}

}  // namespace

std::string PolicyCompiler::Principal(const std::string& trust_domain, const std::string& ns,
                                      const std::string& service_account) {
  return absl::StrCat("spiffe://", trust_domain.empty() ? "cluster.local" : trust_domain, "/ns/",
                      ns, "/sa/", service_account);
}

bool PolicyCompiler::IsMeshDestination(const ClusterConfig& snapshot, const Workload& workload) {
  if (workload.protocol() == Workload::HBONE) return true;
  if (workload.protocol() != Workload::PROTOCOL_UNSPECIFIED) return false;
  if (config::WorkloadOptedOut(workload)) return false;
  for (const auto& ns : snapshot.namespaces()) {
    if (ns.name() == workload.namespace_()) return config::NamespaceIsAmbient(ns);
  }
  return false;
}

bool PolicyCompiler::UsesWaypoint(const ClusterConfig& snapshot, const Workload& workload) {
  if (!workload.waypoint().empty()) return true;
  const std::string label(config::kUseWaypointLabel);
  if (workload.labels().contains(label)) return true;
  for (const auto& ns : snapshot.namespaces()) {
    if (ns.name() == workload.namespace_()) return ns.labels().contains(label);
  }
  return false;
}

absl::StatusOr<std::unique_ptr<PolicyCompiler>> PolicyCompiler::Create(
    const ClusterConfig& snapshot) {
  absl::StatusOr<std::unique_ptr<const AuthorizationEvaluator>> evaluator =
      AuthorizationEvaluator::Create(snapshot);
  if (!evaluator.ok()) return evaluator.status();
  return std::unique_ptr<PolicyCompiler>(new PolicyCompiler(snapshot, *std::move(evaluator)));
}

CompiledPolicyMaps PolicyCompiler::Compile(const std::vector<SourceWorkload>& source_workloads,
                                           const PolicyCapacity& capacity) const {
  CompiledPolicyMaps out;
  const AuthorizationEvaluator& evaluator = *evaluator_;
  for (int i = 0; i < evaluator.policy_count(); ++i) {
    const auto& p = evaluator.policy(i);
    out.policy_names.push_back(absl::StrCat(p.namespace_(), "/", p.name()));
  }

  std::vector<Source> sources;
  for (const SourceWorkload& s : source_workloads) {
    Source src{&s, Principal(snapshot_.mesh().trust_domain(), s.namespace_, s.service_account), {}};
    for (const std::string& a : s.addresses) {
      absl::StatusOr<IpAddress> ip = IpAddress::Parse(a);
      if (ip.ok()) src.addresses.push_back(*ip);
    }
    sources.push_back(std::move(src));
  }

  // Destinations in uid order: admission under capacity is deterministic.
  std::vector<const Workload*> mesh;
  for (const Workload& w : snapshot_.workloads()) {
    if (IsMeshDestination(snapshot_, w) && !UsesWaypoint(snapshot_, w)) mesh.push_back(&w);
  }
  std::sort(mesh.begin(), mesh.end(),
            [](const Workload* a, const Workload* b) { return a->uid() < b->uid(); });
  // One destination per (workload, address): the verdict key then tells address
  // families (and destination.ip conditions) apart without another lookup.
  std::map<std::array<uint8_t, 17>, int> address_owners;
  auto address_key = [](const IpAddress& a) {
    std::array<uint8_t, 17> k{};
    k[0] = a.is_v4() ? 4 : 6;
    std::copy(a.bytes.begin(), a.bytes.end(), k.begin() + 1);
    return k;
  };
  for (const Workload* w : mesh) {
    for (const IpAddress& a : ParseAddresses(w->addresses())) ++address_owners[address_key(a)];
  }
  std::set<uint32_t> used_ids;
  std::vector<Destination> destinations;
  size_t shared_addresses = 0;
  for (const Workload* w : mesh) {
    authz::DestinationWorkload attributes{w->namespace_(), {}};
    attributes.labels.insert(w->labels().begin(), w->labels().end());
    for (const IpAddress& a : ParseAddresses(w->addresses())) {
      if (address_owners[address_key(a)] > 1) {
        ++shared_addresses;
        continue;
      }
      // Ids from a hash so that they survive other workloads coming and going
      // (the writer then rewrites little).
      Destination d{w, Fnv1a(absl::StrCat(w->uid(), "/", a.ToString())), attributes, {a}};
      while (d.id == 0 || used_ids.contains(d.id)) ++d.id;
      used_ids.insert(d.id);
      out.destination_ids[a.ToString()] = d.id;
      destinations.push_back(std::move(d));
    }
  }

  IssueCounts issues;
  std::map<std::string, ClassVerdicts> classes;
  if (shared_addresses > 0) {
    issues[{-1, "address shared by several mesh workloads; left to ztunnel"}] = shared_addresses;
  }
  for (const Destination& d : destinations) {
    DestinationEntries e = CompileDestination(evaluator, sources, d, classes);
    const bool fits = out.dst_v4.size() + e.v4.size() <= capacity.dst_v4 &&
                      out.dst_v6.size() + e.v6.size() <= capacity.dst_v6 &&
                      out.verdicts.size() + e.verdicts.size() <= capacity.verdicts;
    if (!fits) {
      // Without its addresses the destination is unknown to the kernel: DEFER.
      for (int p : evaluator.ApplicablePolicies(d.attributes)) {
        issues[{p, "policy maps full; destinations left to ztunnel"}] +=
            std::max<size_t>(e.verdicts.size(), 1);
      }
      if (e.verdicts.empty()) issues[{-1, "policy maps full; open destinations left to ztunnel"}]++;
      for (const Source& s : sources) out.deferred.insert({s.workload->workload_id, d.id});
      continue;
    }
    out.dst_v4.insert(out.dst_v4.end(), e.v4.begin(), e.v4.end());
    out.dst_v6.insert(out.dst_v6.end(), e.v6.begin(), e.v6.end());
    out.verdicts.insert(out.verdicts.end(), e.verdicts.begin(), e.verdicts.end());
    for (uint32_t s : e.deferred_sources) out.deferred.insert({s, d.id});
    for (const auto& [k, n] : e.issues) issues[k] += n;
  }

  for (const auto& [key, entries] : issues) {
    CompileIssue issue;
    if (key.first >= 0) {
      issue.policy_namespace = evaluator.policy(key.first).namespace_();
      issue.policy_name = evaluator.policy(key.first).name();
    }
    issue.reason = key.second;
    issue.entries = entries;
    out.issues.push_back(std::move(issue));
  }
  return out;
}

}  // namespace weft::bpf::policy
