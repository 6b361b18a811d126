// The labels by which users put workloads in (or out of) the ambient mesh and behind
// a waypoint, and how to read them: one place, so enrollment and the kernel policy
// compiler can never disagree about who is in the mesh.
#pragma once

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

}  // namespace weft::config
