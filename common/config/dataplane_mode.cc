#include "common/config/dataplane_mode.h"

namespace weft::config {
namespace {

bool LabelIs(const google::protobuf::Map<std::string, std::string>& labels, const char* key,
             const char* value) {
  auto it = labels.find(key);
  return it != labels.end() && it->second == value;
}

}  // namespace

bool NamespaceIsAmbient(const weft::config::v1::Namespace& ns) {
  return LabelIs(ns.labels(), kDataplaneModeLabel, kDataplaneModeAmbient);
}

bool WorkloadOptedOut(const weft::config::v1::Workload& workload) {
  return LabelIs(workload.labels(), kDataplaneModeLabel, kDataplaneModeNone);
}

std::set<std::string> AmbientNamespaces(const weft::config::v1::ClusterConfig& config) {
  std::set<std::string> names;
  for (const auto& ns : config.namespaces()) {
    if (NamespaceIsAmbient(ns)) names.insert(ns.name());
  }
  return names;
}

bool WorkloadInMesh(const std::set<std::string>& ambient_namespaces,
                    const weft::config::v1::Workload& workload) {
  return ambient_namespaces.count(workload.namespace_()) > 0 && !WorkloadOptedOut(workload) &&
         workload.protocol() != weft::config::v1::Workload::TCP;
}

namespace {

using weft::config::v1::PeerAuthentication;

bool Selects(const PeerAuthentication& pa, const weft::config::v1::Workload& w) {
  for (const auto& [key, value] : pa.selector().match_labels()) {
    auto it = w.labels().find(key);
    if (it == w.labels().end() || it->second != value) return false;
  }
  return true;
}

InboundMode ModeOf(const PeerAuthentication& pa) {
  return pa.mode() == PeerAuthentication::STRICT ? InboundMode::kStrict
                                                 : InboundMode::kPermissive;
}

}  // namespace

InboundMode InboundModeFor(const weft::config::v1::ClusterConfig& config,
                           const weft::config::v1::Workload& workload) {
  const PeerAuthentication* namespace_wide = nullptr;
  for (const PeerAuthentication& pa : config.peer_authentications()) {
    if (pa.namespace_() != workload.namespace_()) continue;
    if (pa.selector().match_labels().empty()) {
      namespace_wide = &pa;
    } else if (Selects(pa, workload)) {
      return ModeOf(pa);  // the most specific one wins
    }
  }
  return namespace_wide ? ModeOf(*namespace_wide) : InboundMode::kPermissive;
}

std::string_view InboundModeName(InboundMode mode) {
  return mode == InboundMode::kStrict ? "STRICT" : "PERMISSIVE";
}

}  // namespace weft::config
