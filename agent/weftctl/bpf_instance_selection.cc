#include "agent/weftctl/bpf_instance_selection.h"

#include "absl/strings/str_cat.h"
#include "agent/lab/address_plan.h"
#include "agent/lab/state_store.h"
#include "agent/weftctl/pinned_maps.h"

namespace weft::weftctl {
namespace {

constexpr char kDefaultBpffs[] = "/sys/fs/bpf";

}  // namespace

void AddInstanceSelectionFlags(cli::FlagSet& flags, InstanceSelectionFlags* target) {
  flags.String("bpffs", &target->bpffs, "",
               "BPF filesystem the agent pins under (default: the lab's, else /sys/fs/bpf)");
  flags.String("instance", &target->instance, "",
               "agent instance (weft-agent --instance); default: every instance pinned");
  flags.String("lab", &target->lab, "", "every node agent of this local lab");
  flags.String("admin", &target->admin, "127.0.0.1:15020",
               "admin address of the agent of --instance, for workload names");
  flags.String("netns", &target->netns, "", "network namespace (path) --admin lives in");
}

std::string NoMapsReason(const AgentInstance& instance) {
  return absl::StrCat("no pinned maps under ", instance.dir,
                      ": is the agent running with --instance ", instance.name, "?");
}

absl::StatusOr<std::vector<AgentInstance>> SelectInstances(const InstanceSelectionFlags& flags) {
  if (!flags.lab.empty() && !flags.instance.empty()) {
    return absl::InvalidArgumentError("--lab and --instance exclude each other");
  }
  std::vector<AgentInstance> instances;
  if (!flags.lab.empty()) {
    auto state = weft::lab::LoadState(flags.lab);
    if (!state.ok()) return state.status();
    std::string bpffs = !flags.bpffs.empty()      ? flags.bpffs
                        : !state->bpffs().empty() ? state->bpffs()
                                                  : kDefaultBpffs;
    for (const auto& node : state->nodes()) {
      std::string name = weft::lab::InstancePrefix(flags.lab) + node.name();
      instances.push_back({name, InstanceDir(bpffs, name), node.name(), node.admin_addr(),
                           "/run/netns/" + node.netns()});
    }
    return instances;
  }
  const std::string bpffs = flags.bpffs.empty() ? kDefaultBpffs : flags.bpffs;
  if (!flags.instance.empty()) {
    return std::vector<AgentInstance>{
        {flags.instance, InstanceDir(bpffs, flags.instance), "", flags.admin, flags.netns}};
  }
  for (const std::string& name : ListInstances(bpffs)) {
    instances.push_back({name, InstanceDir(bpffs, name), "", "", ""});
  }
  if (instances.empty()) {
    return absl::NotFoundError(absl::StrCat("no agent instances under ", bpffs,
                                            "/weft: is weft-agent running (with --bpffs ", bpffs,
                                            ")?"));
  }
  // --admin names one agent: it can only be matched to an instance when there is one.
  if (instances.size() == 1) {
    instances[0].admin_addr = flags.admin;
    instances[0].admin_netns = flags.netns;
  }
  return instances;
}

}  // namespace weft::weftctl
