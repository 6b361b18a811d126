#include "agent/lab/address_plan.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace weft::lab {

using weft::lab::state::v1::LabState;
using weft::lab::state::v1::NodeState;
using weft::lab::state::v1::PodState;

absl::StatusOr<Ipv4Prefix> Ipv4Prefix::Parse(absl::string_view text) {
  size_t slash = text.find('/');
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an IPv4 CIDR like \"10.244.0.0/24\", got \"", text, "\": ", why));
  };
  if (slash == absl::string_view::npos) return invalid("no prefix length");
  std::string address(text.substr(0, slash));
  int length = 0;
  if (!absl::SimpleAtoi(text.substr(slash + 1), &length) || length < 0 || length > 32) {
    return invalid("prefix length must be 0-32");
  }
  in_addr parsed{};
  if (::inet_pton(AF_INET, address.c_str(), &parsed) != 1) return invalid("bad address");
  Ipv4Prefix prefix;
  prefix.network = ntohl(parsed.s_addr);
  prefix.length = length;
  uint32_t host_mask = length == 0 ? 0xffffffffu : (uint32_t{1} << (32 - length)) - 1;
  if ((prefix.network & host_mask) != 0) return invalid("host bits are set");
  return prefix;
}

std::string FormatIpv4(uint32_t address) {
  return absl::StrCat(address >> 24, ".", (address >> 16) & 0xff, ".", (address >> 8) & 0xff, ".",
                      address & 0xff);
}

std::string Ipv4Prefix::Address(uint32_t offset) const { return FormatIpv4(network + offset); }

bool Ipv4Prefix::Overlaps(const Ipv4Prefix& other) const {
  uint64_t a_end = uint64_t{network} + Size();
  uint64_t b_end = uint64_t{other.network} + other.Size();
  return network < b_end && other.network < a_end;
}

std::string Ipv4Prefix::ToString() const { return absl::StrCat(FormatIpv4(network), "/", length); }

std::string FabricNetnsName(absl::string_view lab) { return NetnsPrefix(lab) + "fabric"; }
std::string NodeNetnsName(absl::string_view lab, absl::string_view node) {
  return absl::StrCat(NetnsPrefix(lab), node);
}
std::string PodNetnsName(absl::string_view lab, absl::string_view ns, absl::string_view pod) {
  return absl::StrCat(NetnsPrefix(lab), ns, "-", pod);
}

void ApplyTopologyDefaults(weft::lab::v1::Topology& topology) {
  if (topology.node_cidr().empty()) topology.set_node_cidr(kDefaultNodeCidr);
  for (int i = 0; i < topology.nodes_size(); ++i) {
    auto* node = topology.mutable_nodes(i);
    if (node->pod_cidr().empty()) node->set_pod_cidr(absl::StrCat("10.244.", i, ".0/24"));
  }
  for (auto& pod : *topology.mutable_pods()) {
    if (pod.service_account().empty()) pod.set_service_account("default");
  }
}

absl::StatusOr<LabState> PlanLab(const std::string& lab, const weft::lab::v1::Topology& topology,
                                 const std::string& cgroup2_mount, const std::string& bpffs) {
  absl::StatusOr<Ipv4Prefix> node_net = Ipv4Prefix::Parse(topology.node_cidr());
  if (!node_net.ok()) return node_net.status();
  LabState state;
  state.set_name(lab);
  state.set_phase("creating");
  state.set_cgroup(absl::StrCat(cgroup2_mount, "/", CgroupDirName(lab)));
  state.set_bpffs(bpffs);
  state.set_fabric_netns(FabricNetnsName(lab));
  state.set_node_cidr(node_net->ToString());
  state.set_cluster_config_path(ClusterConfigPath(lab));
  state.set_ca_dir(absl::StrCat(StateDir(lab), "/ca"));
  state.set_ztunnel(true);

  std::map<std::string, NodeState*, std::less<>> nodes;
  std::map<std::string, uint32_t, std::less<>> next_pod_offset;
  for (int i = 0; i < topology.nodes_size(); ++i) {
    const auto& spec = topology.nodes(i);
    absl::StatusOr<Ipv4Prefix> pods = Ipv4Prefix::Parse(spec.pod_cidr());
    if (!pods.ok()) return pods.status();
    NodeState* node = state.add_nodes();
    node->set_name(spec.name());
    node->set_netns(NodeNetnsName(lab, spec.name()));
    node->set_underlay_ip(node_net->Address(static_cast<uint32_t>(i) + 1));
    node->set_pod_cidr(pods->ToString());
    node->set_bridge_ip(pods->Address(1));
    node->set_cgroup_root(absl::StrCat(state.cgroup(), "/", spec.name()));
    node->set_agent_cgroup(absl::StrCat(state.cgroup(), "/system/agent-", spec.name()));
    node->set_admin_addr(absl::StrCat(node->underlay_ip(), ":", kAgentAdminPort));
    node->set_log_path(absl::StrCat(StateDir(lab), "/agent-", spec.name(), ".log"));
    node->set_node_api_socket(absl::StrCat(StateDir(lab), "/", spec.name(), "/node-api.sock"));
    node->set_netns_socket(absl::StrCat(StateDir(lab), "/", spec.name(), "/netns.sock"));
    auto* ztunnel = node->mutable_ztunnel();
    ztunnel->set_cgroup(absl::StrCat(state.cgroup(), "/system/ztunnel-", spec.name()));
    ztunnel->set_admin_addr(absl::StrCat(node->underlay_ip(), ":", kZtunnelAdminPort));
    ztunnel->set_log_path(absl::StrCat(StateDir(lab), "/ztunnel-", spec.name(), ".log"));
    nodes[spec.name()] = node;
    next_pod_offset[spec.name()] = 2;
  }
  for (const auto& spec : topology.pods()) {
    auto node = nodes.find(spec.node());
    if (node == nodes.end()) {
      return absl::InvalidArgumentError(absl::StrCat("pod ", spec.name(), ": unknown node"));
    }
    absl::StatusOr<Ipv4Prefix> pods = Ipv4Prefix::Parse(node->second->pod_cidr());
    if (!pods.ok()) return pods.status();
    PodState* pod = state.add_pods();
    pod->set_name(spec.name());
    pod->set_namespace_(spec.namespace_());
    pod->set_node(spec.node());
    pod->set_ip(pods->Address(next_pod_offset[spec.node()]++));
    pod->set_netns(PodNetnsName(lab, spec.namespace_(), spec.name()));
    pod->set_cgroup(
        absl::StrCat(node->second->cgroup_root(), "/", spec.namespace_(), "-", spec.name()));
    pod->set_uid(absl::StrCat(lab, "-", spec.namespace_(), "-", spec.name()));
    pod->set_service_account(spec.service_account());
    pod->mutable_labels()->insert(spec.labels().begin(), spec.labels().end());
  }
  return state;
}

namespace {
constexpr absl::string_view kStateRoot = "/run/weft/lab";
}  // namespace

absl::Status ValidateLabName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 10;
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("lab name \"", name, "\": expected 1-10 characters of [a-z0-9]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ResolveLabName(absl::string_view flag_value) {
  std::string name(flag_value);
  if (name.empty()) {
    const char* env = std::getenv("WEFT_LAB");
    name = (env != nullptr && *env != '\0') ? env : "weft";
  }
  if (absl::Status s = ValidateLabName(name); !s.ok()) return s;
  return name;
}

std::string StateDir(absl::string_view lab) { return absl::StrCat(kStateRoot, "/", lab); }
std::string StateFilePath(absl::string_view lab) { return StateDir(lab) + "/state.json"; }
std::string ClusterConfigPath(absl::string_view lab) { return StateDir(lab) + "/cluster.json"; }
std::string SupervisorLogPath(absl::string_view lab) { return StateDir(lab) + "/lab.log"; }
std::string NetnsPrefix(absl::string_view lab) { return absl::StrCat("weft-", lab, "-"); }
std::string CgroupDirName(absl::string_view lab) { return absl::StrCat("weft-lab-", lab); }
std::string InstancePrefix(absl::string_view lab) { return absl::StrCat("lab-", lab, "-"); }

}  // namespace weft::lab
