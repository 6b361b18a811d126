// The lab's address and name plan: from a validated topology and the lab name, every
// network namespace, address, route target and cgroup path the lab will create. It is
// pure computation, so the whole plan can be written to state.json before anything
// exists, and `lab down` can undo any prefix of it.
//
// Names: lab names are [a-z0-9]{1,10}, without '-', so the prefixes derived from them
// ("weft-<lab>-" for namespaces, "weft-lab-<lab>" for the cgroup, "lab-<lab>-" for
// agent instances and their bpffs pins) never overlap between two labs.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/lab/lab_state.pb.h"
#include "weft/lab/v1/topology.pb.h"

namespace weft::lab {

// An IPv4 network in host byte order.
struct Ipv4Prefix {
  uint32_t network = 0;
  int length = 0;

  // "a.b.c.d/n" with zero host bits.
  static absl::StatusOr<Ipv4Prefix> Parse(absl::string_view text);
  uint64_t Size() const { return uint64_t{1} << (32 - length); }
  // network + offset, as dotted quad.
  std::string Address(uint32_t offset) const;
  bool Overlaps(const Ipv4Prefix& other) const;
  std::string ToString() const;
};

std::string FormatIpv4(uint32_t address);

inline constexpr char kDefaultNodeCidr[] = "10.250.0.0/24";

// Fills defaults the topology left out: node_cidr, each node's pod_cidr
// (10.244.<index>.0/24) and each pod's service account ("default").
void ApplyTopologyDefaults(weft::lab::v1::Topology& topology);

// The plan for `topology` (validated, defaults applied). Node i gets the (i+1)th
// address of node_cidr; its pod bridge the first address of its pod CIDR; its pods
// the following ones, in topology order.
absl::StatusOr<weft::lab::state::v1::LabState> PlanLab(const std::string& lab,
                                                       const weft::lab::v1::Topology& topology,
                                                       const std::string& cgroup2_mount,
                                                       const std::string& bpffs);

// "weft-<lab>-fabric", "weft-<lab>-<node>", "weft-<lab>-<ns>-<pod>".
std::string FabricNetnsName(absl::string_view lab);
std::string NodeNetnsName(absl::string_view lab, absl::string_view node);
std::string PodNetnsName(absl::string_view lab, absl::string_view ns, absl::string_view pod);

// Lab names are [a-z0-9]{1,10}: no '-', so "weft-<lab>-" prefixes cannot overlap.
absl::Status ValidateLabName(absl::string_view name);

// `--name` if given, else $WEFT_LAB, else "weft"; validated.
absl::StatusOr<std::string> ResolveLabName(absl::string_view flag_value);

// /run/weft/lab/<lab>
std::string StateDir(absl::string_view lab);
std::string StateFilePath(absl::string_view lab);      // <statedir>/state.json
std::string ClusterConfigPath(absl::string_view lab);  // <statedir>/cluster.json
std::string SupervisorLogPath(absl::string_view lab);  // <statedir>/lab.log

// "weft-<lab>-": every network namespace of the lab starts with it.
std::string NetnsPrefix(absl::string_view lab);
// "weft-lab-<lab>": the lab's cgroup directory under the cgroup2 mount.
std::string CgroupDirName(absl::string_view lab);
// "lab-<lab>-": every agent instance (and so every bpffs pin directory) starts with it.
std::string InstancePrefix(absl::string_view lab);

// Port of the agent's admin server (/healthz) on the node's underlay address.
inline constexpr int kAgentAdminPort = 15020;
// Port of ztunnel's admin server on the node's underlay address.
inline constexpr int kZtunnelAdminPort = 15021;

}  // namespace weft::lab
