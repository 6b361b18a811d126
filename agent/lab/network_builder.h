// Builds the lab's network from its plan with iproute2: a fabric namespace whose bridge
// joins every node's underlay veth, per node a namespace with a pod bridge and routes
// to the other nodes' pod networks, per pod a namespace with eth0 on its node's bridge.
//
// Every veth is created inside the namespaces that hold its two ends (`ip -n A link add
// X type veth peer name Y netns B`), never in the host namespace, so two labs never
// collide on interface names and a crash leaves nothing in the host namespace.
// Each interface carries the alias "weft-lab-<lab>" so a stray one can be traced.
//
// The same file holds the two tools the builder works with: running `ip` from an argv
// vector (failures name the command and quote its stderr), and doing work inside a
// named namespace from this process — the calling thread enters it and comes back.
// Sockets keep the namespace they were created in, which is how the supervisor probes
// agents it cannot reach from the host namespace.
#pragma once

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/lab/lab_state.pb.h"

namespace weft::lab {

// Interface names inside the lab's namespaces.
inline constexpr char kFabricBridge[] = "br0";
inline constexpr char kUnderlayDevice[] = "eth0";  // in a node netns
inline constexpr char kPodBridge[] = "br-pods";    // in a node netns
inline constexpr char kPodDevice[] = "eth0";       // in a pod netns

absl::Status BuildFabric(const weft::lab::state::v1::LabState& plan);
absl::Status BuildNode(const weft::lab::state::v1::LabState& plan, int node_index);
absl::Status BuildNodeRoutes(const weft::lab::state::v1::LabState& plan, int node_index);
absl::Status BuildPod(const weft::lab::state::v1::LabState& plan, int pod_index);

std::string NetnsPath(absl::string_view name);

// Names under /run/netns starting with `prefix` (none when /run/netns is absent).
absl::StatusOr<std::vector<std::string>> ListNetns(absl::string_view prefix);

// Runs `fn` with the calling thread inside netns `name`. Aborts if it cannot return to
// the original namespace: every later step would silently act on the wrong one.
absl::Status RunInNetns(absl::string_view name, absl::FunctionRef<absl::Status()> fn);

// socket(2) created inside netns `name`; close-on-exec.
absl::StatusOr<int> OpenSocketInNetns(absl::string_view name, int domain, int type);

// Writes `value` to /proc/sys/<key> of netns `name` (key like "net/ipv4/ip_forward").
absl::Status WriteSysctlInNetns(absl::string_view name, absl::string_view key,
                                absl::string_view value);

// Runs argv[0] (looked up in PATH) with a clean signal mask and stdin from /dev/null.
// Returns its stdout; fails when it cannot start, exits non-zero or is killed.
absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv);

// `ip ARGS...`: the lab's only helper binary.
absl::Status RunIp(const std::vector<std::string>& args);

// argv joined with spaces, for messages.
std::string FormatCommand(const std::vector<std::string>& argv);

}  // namespace weft::lab
