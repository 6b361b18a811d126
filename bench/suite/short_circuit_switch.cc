#include "bench/suite/short_circuit_switch.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "agent/bpf/inbound/loopback_short_circuit.h"
#include "agent/lab/address_plan.h"

namespace weft::bench {
namespace {

absl::Status Apply(const std::string& pin_dir, const std::string& cgroup_root,
                   const std::string& ztunnel_cgroup, bool enabled) {
  // Creating the loader applies `enabled` to the pinned objects; destroying it closes fds
  // only, the pinned link (when enabled) stays.
  absl::StatusOr<std::unique_ptr<weft::bpf::LoopbackShortCircuit>> sc =
      weft::bpf::LoopbackShortCircuit::Create(
          {.pin_dir = pin_dir,
           .cgroup_path = cgroup_root,
           .ztunnel_cgroup = ztunnel_cgroup,
           .enabled = enabled});
  if (!sc.ok()) {
    return absl::Status(sc.status().code(),
                        absl::StrCat("short-circuit ", enabled ? "on" : "off", " at ", pin_dir,
                                     ": ", sc.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ShortCircuitSwitch> ShortCircuitSwitch::ForLab(
    const weft::lab::state::v1::LabState& lab) {
  ShortCircuitSwitch sw;
  for (const auto& node : lab.nodes()) {
    Node n;
    // The agent's pin directory: <bpffs>/weft/<instance> (agent/node_environment.cc).
    n.pin_dir = absl::StrCat(lab.bpffs(), "/weft/",
                             weft::lab::InstancePrefix(lab.name()), node.name());
    n.cgroup_root = node.cgroup_root();
    n.ztunnel_cgroup = node.ztunnel().cgroup();
    if (::access(n.pin_dir.c_str(), F_OK) != 0) {
      return absl::NotFoundError(absl::StrCat("node ", node.name(), ": no agent pins at ",
                                              n.pin_dir));
    }
    n.enabled_at_start = ::access((n.pin_dir + "/shortcircuit/sockops").c_str(), F_OK) == 0;
    sw.nodes_.push_back(std::move(n));
  }
  return sw;
}

absl::Status ShortCircuitSwitch::Set(bool enabled) {
  if (applied_ == enabled) return absl::OkStatus();
  applied_.reset();  // a partial failure leaves the state unknown
  for (const Node& n : nodes_) {
    if (absl::Status s = Apply(n.pin_dir, n.cgroup_root, n.ztunnel_cgroup, enabled); !s.ok()) {
      return s;
    }
  }
  applied_ = enabled;
  return absl::OkStatus();
}

absl::Status ShortCircuitSwitch::Restore() {
  absl::Status result;
  for (const Node& n : nodes_) {
    result.Update(Apply(n.pin_dir, n.cgroup_root, n.ztunnel_cgroup, n.enabled_at_start));
  }
  applied_.reset();
  return result;
}

}  // namespace weft::bench
