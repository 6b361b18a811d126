// Which agent instances `weftctl bpf maps|stats` look at, and where each one's pins and
// admin port are: one named instance, every node of a local lab (instance
// lab-<lab>-<node>, admin port inside the node's netns), or every instance pinned under
// <bpffs>/weft.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cli/flag_set.h"

namespace weft::weftctl {

struct InstanceSelectionFlags {
  std::string bpffs;     // empty: the lab's bpffs, else /sys/fs/bpf
  std::string instance;  // empty: see lab, else every instance
  std::string lab;
  std::string admin;  // the agent of --instance (or of the only instance found)
  std::string netns;  // network namespace path of `admin`
};

// Declares --bpffs, --instance, --lab, --admin and --netns on `flags`.
void AddInstanceSelectionFlags(cli::FlagSet& flags, InstanceSelectionFlags* target);

struct AgentInstance {
  std::string name;         // the agent's --instance
  std::string dir;          // <bpffs>/weft/<name>
  std::string node;         // lab node name; empty outside a lab
  std::string admin_addr;   // empty: the agent's admin port is not known
  std::string admin_netns;  // netns path the admin address lives in; empty: this one
};

// The selected instances. InvalidArgument for contradicting flags; NotFound (with a
// hint at the likely cause) when nothing is pinned where the selection points.
absl::StatusOr<std::vector<AgentInstance>> SelectInstances(const InstanceSelectionFlags& flags);

// The reason given when an instance directory holds no map.
std::string NoMapsReason(const AgentInstance& instance);

}  // namespace weft::weftctl
