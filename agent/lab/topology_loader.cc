#include "agent/lab/topology_loader.h"

#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/lab/address_plan.h"
#include "common/config/value_checks.h"

namespace weft::lab {
namespace {

using weft::config::FieldError;
using weft::config::LineIndex;
using weft::lab::v1::Topology;

// A pod network holds the bridge (.1) and pods from .2 to .254.
constexpr int kMaxPodsPerNode = 253;

class TopologyChecker {
 public:
  TopologyChecker(const Topology& topology, const LineIndex& lines)
      : topology_(topology), lines_(lines) {}

  std::vector<FieldError> Run() {
    CheckConfig();
    CheckNodeCidr();
    CheckNodes();
    CheckPods();
    return std::move(errors_);
  }

 private:
  void Error(const std::string& path, std::string message) {
    errors_.push_back({path, std::move(message), weft::config::LineOf(lines_, path)});
  }

  // Every netns (and pod cgroup) name is "weft-<lab>-" + one of these suffixes.
  void ClaimNameSuffix(const std::string& suffix, const std::string& path) {
    auto [it, inserted] = name_suffixes_.emplace(suffix, path);
    if (!inserted) {
      Error(path, absl::StrCat("expected names that stay distinct in network namespace names: \"",
                               suffix, "\" is also what ", it->second, " becomes"));
    }
  }

  void CheckConfig() {
    for (const auto& ns : topology_.config().namespaces()) namespaces_.insert(ns.name());
    if (topology_.config().workloads_size() > 0) {
      Error("config.workloads",
            "expected no workloads: the lab publishes one workload per pod; declare pods instead");
    }
  }

  void CheckNodeCidr() {
    absl::StatusOr<Ipv4Prefix> net = Ipv4Prefix::Parse(topology_.node_cidr());
    if (!net.ok()) {
      Error("node_cidr", std::string(net.status().message()));
      return;
    }
    if (net->length > 30 || net->Size() - 2 < static_cast<uint64_t>(topology_.nodes_size())) {
      Error("node_cidr", absl::StrCat("expected room for ", topology_.nodes_size(),
                                      " node addresses in ", topology_.node_cidr()));
    }
    node_net_ = *net;
  }

  void CheckNodes() {
    if (topology_.nodes().empty()) Error("nodes", "expected at least one node");
    ClaimNameSuffix("fabric", "the fabric namespace");
    std::map<uint32_t, std::string> pod_networks;
    for (int i = 0; i < topology_.nodes_size(); ++i) {
      const auto& node = topology_.nodes(i);
      const std::string path = absl::StrCat("nodes[", i, "]");
      if (std::string problem = weft::config::CheckDnsLabel(node.name()); !problem.empty()) {
        Error(path + ".name", problem);
      } else if (!node_names_.insert(node.name()).second) {
        Error(path + ".name",
              absl::StrCat("expected a unique node name: \"", node.name(), "\" appears twice"));
      } else if (node.name() == "system") {
        Error(path + ".name", "\"system\" is reserved (it holds the agents' cgroups)");
      } else {
        ClaimNameSuffix(node.name(), path + ".name");
      }
      absl::StatusOr<Ipv4Prefix> pods = Ipv4Prefix::Parse(node.pod_cidr());
      if (!pods.ok()) {
        Error(path + ".pod_cidr", std::string(pods.status().message()));
        continue;
      }
      if (pods->length != 24) {
        Error(path + ".pod_cidr", absl::StrCat("expected a /24, got ", node.pod_cidr()));
        continue;
      }
      if (node_net_.has_value() && pods->Overlaps(*node_net_)) {
        Error(path + ".pod_cidr",
              absl::StrCat("expected a network apart from node_cidr ", topology_.node_cidr()));
      }
      auto [it, inserted] = pod_networks.emplace(pods->network, path + ".pod_cidr");
      if (!inserted) {
        Error(path + ".pod_cidr", absl::StrCat("expected a unique pod network: ", node.pod_cidr(),
                                               " is also ", it->second));
      }
    }
  }

  void CheckPods() {
    std::set<std::pair<std::string, std::string>> pod_names;
    std::map<std::string, int> pods_per_node;
    for (int i = 0; i < topology_.pods_size(); ++i) {
      const auto& pod = topology_.pods(i);
      const std::string path = absl::StrCat("pods[", i, "]");
      bool names_ok = true;
      for (const auto& [field, value] :
           {std::pair{"name", &pod.name()}, std::pair{"namespace", &pod.namespace_()}}) {
        if (std::string problem = weft::config::CheckDnsLabel(*value); !problem.empty()) {
          Error(absl::StrCat(path, ".", field), problem);
          names_ok = false;
        }
      }
      if (std::string p = weft::config::CheckDnsLabel(pod.service_account()); !p.empty()) {
        Error(path + ".service_account", p);
      }
      if (names_ok && !namespaces_.contains(pod.namespace_())) {
        Error(path + ".namespace", absl::StrCat("expected a namespace declared in "
                                                "config.namespaces, got \"",
                                                pod.namespace_(), "\""));
      }
      if (names_ok && !pod_names.insert({pod.namespace_(), pod.name()}).second) {
        Error(path + ".name", absl::StrCat("expected a unique pod: ", pod.namespace_(), "/",
                                           pod.name(), " appears twice"));
      } else if (names_ok) {
        ClaimNameSuffix(absl::StrCat(pod.namespace_(), "-", pod.name()), path + ".name");
      }
      if (!node_names_.contains(pod.node())) {
        Error(path + ".node", absl::StrCat("expected one of the nodes, got \"", pod.node(), "\""));
      } else if (++pods_per_node[pod.node()] == kMaxPodsPerNode + 1) {
        Error(path + ".node", absl::StrCat("expected at most ", kMaxPodsPerNode,
                                           " pods per node (a /24 pod network)"));
      }
    }
  }

  const Topology& topology_;
  const LineIndex& lines_;
  std::vector<FieldError> errors_;
  std::set<std::string> namespaces_;
  std::set<std::string> node_names_;
  std::map<std::string, std::string> name_suffixes_;
  std::optional<Ipv4Prefix> node_net_;
};

}  // namespace

std::vector<FieldError> ValidateTopology(const Topology& topology, const LineIndex& lines) {
  return TopologyChecker(topology, lines).Run();
}

std::string JoinFieldErrors(const std::string& document, const std::vector<FieldError>& errors) {
  return absl::StrJoin(errors, "; ", [&](std::string* out, const FieldError& e) {
    out->append(weft::config::FormatFieldError(document, e));
  });
}

absl::StatusOr<LoadedTopology> LoadTopology(const std::string& path) {
  absl::StatusOr<std::string> text = weft::config::ReadFileToString(path);
  if (!text.ok()) return text.status();
  LoadedTopology loaded;
  loaded.path = path;
  weft::config::ParsedDocument parsed = weft::config::ParseDocument(*text, &loaded.topology);
  if (!parsed.errors.empty()) {
    return absl::InvalidArgumentError(JoinFieldErrors(path, parsed.errors));
  }
  loaded.lines = std::move(parsed.lines);
  ApplyTopologyDefaults(loaded.topology);
  std::vector<FieldError> errors = ValidateTopology(loaded.topology, loaded.lines);
  if (!errors.empty()) return absl::InvalidArgumentError(JoinFieldErrors(path, errors));
  return loaded;
}

}  // namespace weft::lab
