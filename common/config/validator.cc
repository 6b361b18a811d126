#include "common/config/validator.h"

#include <map>
#include <set>

#include "common/config/validation_context.h"
#include "common/config/value_checks.h"

namespace weft::config {

using weft::config::v1::ClusterConfig;

void ValidateMesh(ValidationContext& ctx, const ClusterConfig& config) {
  const auto& mesh = config.mesh();
  if (!mesh.trust_domain().empty()) {
    ctx.Check("mesh.trust_domain", CheckDnsSubdomain(mesh.trust_domain()));
  }
  for (int i = 0; i < mesh.excluded_cidrs_size(); ++i) {
    ctx.Check(Item("mesh.excluded_cidrs", i), CheckCidr(mesh.excluded_cidrs(i)));
  }
  for (int i = 0; i < mesh.excluded_ports_size(); ++i) {
    ctx.Check(Item("mesh.excluded_ports", i), CheckPort(mesh.excluded_ports(i)));
  }
}

void ValidateNamespaces(ValidationContext& ctx, const ClusterConfig& config) {
  std::set<std::string> seen;
  for (int i = 0; i < config.namespaces_size(); ++i) {
    const auto& ns = config.namespaces(i);
    std::string path = Item("namespaces", i);
    if (std::string problem = CheckDnsLabel(ns.name()); !problem.empty()) {
      ctx.Error(path + ".name", problem);
    } else if (!seen.insert(ns.name()).second) {
      ctx.Error(path + ".name", absl::StrCat("expected a unique name: namespace \"", ns.name(),
                                             "\" is declared more than once"));
    }
    ctx.CheckLabels(path + ".labels", ns.labels());
  }
}

void ValidateWorkloads(ValidationContext& ctx, const ClusterConfig& config) {
  std::set<std::string> uids;
  std::map<std::pair<std::string, std::string>, std::string> address_owner;  // (network, ip)
  for (int i = 0; i < config.workloads_size(); ++i) {
    const auto& w = config.workloads(i);
    std::string path = Item("workloads", i);
    if (w.uid().empty()) {
      ctx.Error(path + ".uid", "expected a unique id, got nothing");
    } else if (!uids.insert(w.uid()).second) {
      ctx.Error(path + ".uid",
                absl::StrCat("expected a unique id: \"", w.uid(), "\" is used more than once"));
    }
    ctx.CheckObjectName(path, "workload", w.namespace_(), w.name());
    if (!w.service_account().empty()) {
      ctx.Check(path + ".service_account", CheckDnsSubdomain(w.service_account()));
    }
    if (!w.node().empty()) ctx.Check(path + ".node", CheckDnsSubdomain(w.node()));
    for (int j = 0; j < w.addresses_size(); ++j) {
      std::string apath = Item(path + ".addresses", j);
      if (std::string problem = CheckIpAddress(w.addresses(j)); !problem.empty()) {
        ctx.Error(apath, problem);
        continue;
      }
      auto [it, fresh] = address_owner.emplace(std::pair(w.network(), w.addresses(j)), w.uid());
      if (!fresh && it->second != w.uid()) {
        ctx.Error(apath, absl::StrCat("expected an address no other workload has: \"",
                                      w.addresses(j), "\" belongs to workload \"", it->second,
                                      "\""));
      }
    }
    ctx.CheckLabels(path + ".labels", w.labels());
  }
}

void ValidateServices(ValidationContext& ctx, const ClusterConfig& config) {
  std::map<std::string, std::string> vip_owner;
  for (int i = 0; i < config.services_size(); ++i) {
    const auto& s = config.services(i);
    std::string path = Item("services", i);
    ctx.CheckObjectName(path, "service", s.namespace_(), s.name());
    if (!s.name().empty()) ctx.Check(path + ".name", CheckDnsLabel(s.name()));
    if (!s.hostname().empty()) ctx.Check(path + ".hostname", CheckDnsSubdomain(s.hostname()));
    for (int j = 0; j < s.vips_size(); ++j) {
      std::string vpath = Item(path + ".vips", j);
      if (std::string problem = CheckIpAddress(s.vips(j)); !problem.empty()) {
        ctx.Error(vpath, problem);
        continue;
      }
      std::string owner = absl::StrCat(s.namespace_(), "/", s.name());
      auto [it, fresh] = vip_owner.emplace(s.vips(j), owner);
      if (!fresh && it->second != owner) {
        ctx.Error(vpath, absl::StrCat("expected a VIP no other service has: \"", s.vips(j),
                                      "\" belongs to service \"", it->second, "\""));
      }
    }
    if (s.ports_size() == 0) ctx.Error(path + ".ports", "expected at least one port, got none");
    std::set<uint32_t> ports;
    std::set<std::string> port_names;
    for (int j = 0; j < s.ports_size(); ++j) {
      const auto& p = s.ports(j);
      std::string ppath = Item(path + ".ports", j);
      if (std::string problem = CheckPort(p.port()); !problem.empty()) {
        ctx.Error(ppath + ".port", problem);
      } else if (!ports.insert(p.port()).second) {
        ctx.Error(ppath + ".port", absl::StrCat("expected a unique port: ", p.port(),
                                                " is listed more than once"));
      }
      if (p.target_port() != 0) ctx.Check(ppath + ".target_port", CheckPort(p.target_port()));
      if (!p.name().empty() && !port_names.insert(p.name()).second) {
        ctx.Error(ppath + ".name", absl::StrCat("expected a unique port name: \"", p.name(),
                                                "\" is used more than once"));
      }
    }
    ctx.CheckLabels(path + ".selector", s.selector());
    for (int j = 0; j < s.endpoints_size(); ++j) {
      const auto& e = s.endpoints(j);
      std::string epath = Item(path + ".endpoints", j);
      if (!ctx.WorkloadExists(e.workload_uid())) {
        ctx.Error(epath + ".workload_uid",
                  absl::StrCat("expected the uid of a workload, got \"", e.workload_uid(), "\""));
      }
      if (e.port() != 0) ctx.Check(epath + ".port", CheckPort(e.port()));
    }
  }
}

void ValidatePeerAuthentications(ValidationContext& ctx, const ClusterConfig& config) {
  std::set<std::string> namespace_wide;
  for (int i = 0; i < config.peer_authentications_size(); ++i) {
    const auto& pa = config.peer_authentications(i);
    std::string path = Item("peer_authentications", i);
    ctx.CheckObjectName(path, "peer authentication", pa.namespace_(), pa.name());
    if (pa.selector().match_labels().empty()) {
      if (!namespace_wide.insert(pa.namespace_()).second) {
        ctx.Error(path + ".selector",
                  absl::StrCat("expected one namespace-wide peer authentication per namespace: \"",
                               pa.namespace_(), "\" has another without a selector"));
      }
    } else {
      ctx.CheckSelectorMatches(path + ".selector.match_labels", pa.namespace_(),
                               pa.selector().match_labels());
    }
  }
}

std::vector<FieldError> ValidateClusterConfig(const ClusterConfig& config,
                                              const LineIndex& lines) {
  ValidationContext ctx(config, lines);
  ValidateMesh(ctx, config);
  ValidateNamespaces(ctx, config);
  ValidateWorkloads(ctx, config);
  ValidateServices(ctx, config);
  ValidateAuthorizationPolicies(ctx, config);
  ValidatePeerAuthentications(ctx, config);
  ValidateHttpRoutes(ctx, config);
  ValidateTrafficPolicies(ctx, config);
  return ctx.TakeErrors();
}

}  // namespace weft::config
