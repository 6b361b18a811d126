// The labels by which users put workloads in (or out of) the ambient mesh and behind
// a waypoint, and how to read them: one place, so enrollment and the kernel policy
// compiler can never disagree about who is in the mesh.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "weft/config/v1/config.pb.h"

namespace weft::config {

inline constexpr char kDataplaneModeLabel[] = "weft.dev/dataplane-mode";
inline constexpr char kDataplaneModeAmbient[] = "ambient";
inline constexpr char kDataplaneModeNone[] = "none";
inline constexpr char kUseWaypointLabel[] = "weft.dev/use-waypoint";

// The namespace opted in: weft.dev/dataplane-mode=ambient.
bool NamespaceIsAmbient(const weft::config::v1::Namespace& ns);
// The workload opted out: weft.dev/dataplane-mode=none.
bool WorkloadOptedOut(const weft::config::v1::Workload& workload);

// Names of the ambient namespaces of a snapshot.
std::set<std::string> AmbientNamespaces(const weft::config::v1::ClusterConfig& config);
// In the mesh: its namespace is ambient, it did not opt out, and it does not declare
// itself plain TCP. Its traffic is captured and it is reached over HBONE.
bool WorkloadInMesh(const std::set<std::string>& ambient_namespaces,
                    const weft::config::v1::Workload& workload);

// Whether plaintext inbound is accepted (PERMISSIVE) or dropped (STRICT): a
// PeerAuthentication that selects the workload beats the namespace-wide one; none
// means PERMISSIVE.
enum class InboundMode { kPermissive, kStrict };
InboundMode InboundModeFor(const weft::config::v1::ClusterConfig& config,
                           const weft::config::v1::Workload& workload);
std::string_view InboundModeName(InboundMode mode);

}  // namespace weft::config
