#include "common/config/validation_context.h"

#include "common/config/value_checks.h"

namespace weft::config {

using weft::config::v1::ClusterConfig;
using weft::config::v1::Service;

ValidationContext::ValidationContext(const ClusterConfig& config, const LineIndex& lines)
    : config_(config), lines_(lines) {
  for (const auto& ns : config.namespaces()) namespaces_.insert(ns.name());
  for (const auto& w : config.workloads()) workload_uids_.insert(w.uid());
  for (const auto& s : config.services()) services_.emplace(std::pair(s.namespace_(), s.name()), &s);
}

void ValidationContext::CheckObjectName(const std::string& path, const std::string& kind,
                                        const std::string& ns, const std::string& name) {
  bool name_ok = true;
  if (name.empty()) {
    Error(path + ".name", "expected a name, got nothing");
    name_ok = false;
  } else if (std::string problem = CheckDnsSubdomain(name); !problem.empty()) {
    Error(path + ".name", problem);
    name_ok = false;
  }
  if (ns.empty()) {
    Error(path + ".namespace", "expected a namespace, got nothing");
    return;
  }
  if (std::string problem = CheckDnsLabel(ns); !problem.empty()) {
    Error(path + ".namespace", problem);
    return;
  }
  if (!NamespaceDeclared(ns)) {
    Error(path + ".namespace",
          absl::StrCat("expected a namespace declared under namespaces, got \"", ns, "\""));
  }
  if (name_ok && !object_names_.emplace(kind, ns, name).second) {
    Error(path + ".name", absl::StrCat("expected a unique name: ", kind, " \"", ns, "/", name,
                                       "\" is defined more than once"));
  }
}

void ValidationContext::CheckLabels(const std::string& path,
                                    const google::protobuf::Map<std::string, std::string>& labels) {
  for (const auto& [key, value] : labels) {
    std::string entry = absl::StrCat(path, "[", key, "]");
    Check(entry, CheckLabelKey(key));
    Check(entry, CheckLabelValue(value));
  }
}

void ValidationContext::CheckSelectorMatches(
    const std::string& path, const std::string& ns,
    const google::protobuf::Map<std::string, std::string>& match) {
  CheckLabels(path, match);
  if (match.empty()) return;
  for (const auto& w : config_.workloads()) {
    if (w.namespace_() != ns) continue;
    bool all = true;
    for (const auto& [key, value] : match) {
      auto it = w.labels().find(key);
      if (it == w.labels().end() || it->second != value) {
        all = false;
        break;
      }
    }
    if (all) return;
  }
  Error(path, absl::StrCat("expected a selector that matches a workload in namespace \"", ns,
                           "\", but none has these labels"));
}

const Service* ValidationContext::FindService(const std::string& ns,
                                              const std::string& name) const {
  auto it = services_.find(std::pair(ns, name));
  return it == services_.end() ? nullptr : it->second;
}

}  // namespace weft::config
