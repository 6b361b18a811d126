#include "agent/lab/cluster_config.h"

#include <cstdio>
#include <ctime>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/lab/address_plan.h"
#include "agent/lab/lab_subcommands.h"
#include "agent/lab/state_store.h"
#include "agent/lab/topology_loader.h"
#include "common/config/validator.h"

namespace weft::lab {

using weft::config::v1::ClusterConfig;
using weft::config::v1::Workload;

Workload WorkloadForPod(const weft::lab::state::v1::PodState& pod) {
  Workload workload;
  workload.set_uid(pod.uid());
  workload.set_name(pod.name());
  workload.set_namespace_(pod.namespace_());
  workload.set_service_account(pod.service_account());
  workload.set_node(pod.node());
  workload.add_addresses(pod.ip());
  workload.set_protocol(Workload::HBONE);
  workload.mutable_labels()->insert(pod.labels().begin(), pod.labels().end());
  return workload;
}

ClusterConfig BuildClusterConfig(const weft::lab::v1::Topology& topology,
                                 const weft::lab::state::v1::LabState& plan) {
  ClusterConfig config = topology.config();
  for (const auto& pod : plan.pods()) *config.add_workloads() = WorkloadForPod(pod);
  return config;
}

std::vector<weft::config::FieldError> ValidateBuiltClusterConfig(
    const ClusterConfig& config, const weft::config::LineIndex& topology_lines) {
  std::vector<weft::config::FieldError> errors = weft::config::ValidateClusterConfig(config);
  for (auto& error : errors) {
    // Workloads come from pods in the same order, so the index carries over.
    if (absl::StartsWith(error.path, "workloads[")) {
      error.path = absl::StrCat("pods", error.path.substr(std::string("workloads").size()));
    } else {
      error.path = error.path.empty() ? "config" : absl::StrCat("config.", error.path);
    }
    error.line = weft::config::LineOf(topology_lines, error.path);
  }
  return errors;
}

absl::StatusOr<ClusterConfig> ReadClusterConfig(const std::string& path) {
  ClusterConfig config;
  if (absl::Status s = ReadJsonFile(path, &config); !s.ok()) return s;
  return config;
}

namespace {

using weft::config::FieldError;
using weft::config::v1::ClusterConfig;

// For one list: merged index -> index in the update document.
using Origins = std::map<int, int>;

template <typename T, typename KeyFn>
void MergeList(google::protobuf::RepeatedPtrField<T>* base,
               const google::protobuf::RepeatedPtrField<T>& update, KeyFn key, Origins& origins) {
  for (int u = 0; u < update.size(); ++u) {
    int target = -1;
    for (int b = 0; b < base->size(); ++b) {
      if (key(base->Get(b)) == key(update.Get(u))) target = b;
    }
    if (target < 0) {
      target = base->size();
      base->Add();
    }
    *base->Mutable(target) = update.Get(u);
    origins[target] = u;
  }
}

template <typename T>
std::string NamespacedKey(const T& object) {
  return absl::StrCat(object.namespace_(), "/", object.name());
}

}  // namespace

MergeOutcome MergeClusterConfig(const ClusterConfig& base, const std::string& base_name,
                                const ClusterConfig& update, const std::string& update_name,
                                const weft::config::LineIndex& update_lines) {
  MergeOutcome outcome;
  if (update.workloads_size() > 0) {
    FieldError error{"workloads", "expected no workloads: the lab publishes one workload per pod",
                     weft::config::LineOf(update_lines, "workloads")};
    outcome.errors.push_back(weft::config::FormatFieldError(update_name, error));
    return outcome;
  }
  outcome.merged = base;
  ClusterConfig& merged = outcome.merged;
  std::map<std::string, Origins> origins;
  if (update.has_mesh()) *merged.mutable_mesh() = update.mesh();
  MergeList(
      merged.mutable_namespaces(), update.namespaces(), [](const auto& ns) { return ns.name(); },
      origins["namespaces"]);
  MergeList(merged.mutable_services(), update.services(), NamespacedKey<weft::config::v1::Service>,
            origins["services"]);
  MergeList(merged.mutable_authorization_policies(), update.authorization_policies(),
            NamespacedKey<weft::config::v1::AuthorizationPolicy>,
            origins["authorization_policies"]);
  MergeList(merged.mutable_http_routes(), update.http_routes(),
            NamespacedKey<weft::config::v1::HTTPRoute>, origins["http_routes"]);
  MergeList(merged.mutable_traffic_policies(), update.traffic_policies(),
            NamespacedKey<weft::config::v1::TrafficPolicy>, origins["traffic_policies"]);
  MergeList(merged.mutable_peer_authentications(), update.peer_authentications(),
            NamespacedKey<weft::config::v1::PeerAuthentication>, origins["peer_authentications"]);

  for (FieldError& error : weft::config::ValidateClusterConfig(merged)) {
    // "services[3].ports[0]" -> list "services", index 3, rest ".ports[0]".
    size_t open = error.path.find('[');
    size_t close = error.path.find(']');
    std::string document = base_name;
    if (open != std::string::npos && close != std::string::npos && open < close) {
      std::string list = error.path.substr(0, open);
      int index = -1;
      auto found = origins.find(list);
      if (absl::SimpleAtoi(error.path.substr(open + 1, close - open - 1), &index) &&
          found != origins.end() && found->second.contains(index)) {
        error.path =
            absl::StrCat(list, "[", found->second.at(index), "]", error.path.substr(close + 1));
        document = update_name;
      }
    } else if (error.path.rfind("mesh", 0) == 0 && update.has_mesh()) {
      document = update_name;
    }
    error.line = document == update_name ? weft::config::LineOf(update_lines, error.path) : 0;
    outcome.errors.push_back(weft::config::FormatFieldError(document, error));
  }
  return outcome;
}

namespace {

using LabelMap = google::protobuf::Map<std::string, std::string>;

constexpr char kUsage[] =
    "usage: weftctl lab label [--name LAB] namespace NS|pod NS/NAME key=value|key- ...";

absl::Status ApplyChanges(const std::vector<std::string>& changes, LabelMap& labels) {
  for (const std::string& change : changes) {
    size_t eq = change.find('=');
    if (eq != std::string::npos && eq > 0) {
      labels[change.substr(0, eq)] = change.substr(eq + 1);
    } else if (change.size() > 1 && absl::EndsWith(change, "-")) {
      labels.erase(change.substr(0, change.size() - 1));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("label change \"", change, "\": expected key=value or key-"));
    }
  }
  return absl::OkStatus();
}

absl::Status Relabel(const std::string& lab, const std::string& kind, const std::string& target,
                     const std::vector<std::string>& changes) {
  absl::StatusOr<FileLock> lock = LockForEdit(lab);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<weft::lab::state::v1::LabState> state = LoadState(lab);
  if (!state.ok()) return state.status();
  absl::StatusOr<weft::config::v1::ClusterConfig> config =
      ReadClusterConfig(state->cluster_config_path());
  if (!config.ok()) return config.status();

  std::string pod_uid;
  LabelMap* labels = nullptr;
  if (kind == "namespace") {
    for (auto& ns : *config->mutable_namespaces()) {
      if (ns.name() == target) labels = ns.mutable_labels();
    }
    if (labels == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("no namespace \"", target, "\" in ", state->cluster_config_path()));
    }
  } else {
    absl::StatusOr<weft::lab::state::v1::PodState> pod = FindPod(*state, target);
    if (!pod.ok()) return pod.status();
    pod_uid = pod->uid();
    for (auto& workload : *config->mutable_workloads()) {
      if (workload.uid() == pod_uid) labels = workload.mutable_labels();
    }
    if (labels == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("no workload ", pod_uid, " in ", state->cluster_config_path()));
    }
  }
  if (absl::Status s = ApplyChanges(changes, *labels); !s.ok()) return s;
  std::vector<weft::config::FieldError> errors = weft::config::ValidateClusterConfig(*config);
  if (!errors.empty()) {
    std::vector<std::string> lines;
    for (const auto& e : errors) lines.push_back(weft::config::FormatFieldError("result", e));
    return absl::InvalidArgumentError(
        absl::StrCat("labels rejected: ", absl::StrJoin(lines, "; ")));
  }
  if (absl::Status s = WriteJsonAtomically(state->cluster_config_path(), *config); !s.ok()) {
    return s;
  }
  const LabelMap result = *labels;
  return UpdateStateLocked(lab, [&](weft::lab::state::v1::LabState& saved) {
    auto* record = saved.add_label_changes();
    record->set_kind(kind);
    record->set_target(target);
    for (const std::string& c : changes) record->add_changes(c);
    record->set_unix_time(static_cast<int64_t>(std::time(nullptr)));
    for (auto& pod : *saved.mutable_pods()) {
      if (!pod_uid.empty() && pod.uid() == pod_uid) *pod.mutable_labels() = result;
    }
    return absl::OkStatus();
  });
}

}  // namespace

// `weftctl lab label [--name LAB] namespace NS key=value|key- ...` and
// `weftctl lab label [--name LAB] pod NS/NAME key=value|key- ...`: changes labels in the
// live cluster.json (the agents pick it up through inotify), like `kubectl label`.
int RunLabLabel(const std::vector<std::string>& args) {
  absl::StatusOr<LabArgs> parsed = ParseLabArgs(args, {"--name"}, {});
  if (!parsed.ok()) return ReportFailure("label", parsed.status());
  const auto& pos = parsed->positional;
  if (pos.size() < 3 || (pos[0] != "namespace" && pos[0] != "pod") || parsed->has_command) {
    return ReportFailure("label", absl::InvalidArgumentError(kUsage));
  }
  absl::StatusOr<std::string> lab = ResolveLabName(parsed->Flag("--name"));
  if (!lab.ok()) return ReportFailure("label", lab.status());
  std::vector<std::string> changes(pos.begin() + 2, pos.end());
  if (absl::Status s = Relabel(*lab, pos[0], pos[1], changes); !s.ok()) {
    return ReportFailure("label", s);
  }
  std::printf("%s %s labelled (%s)\n", pos[0].c_str(), pos[1].c_str(),
              absl::StrJoin(changes, " ").c_str());
  return 0;
}

namespace {

absl::Status Apply(const std::string& lab, const std::string& file) {
  absl::StatusOr<std::string> text = weft::config::ReadFileToString(file);
  if (!text.ok()) return text.status();
  weft::config::v1::ClusterConfig update;
  weft::config::ParsedDocument parsed = weft::config::ParseDocument(*text, &update);
  if (!parsed.errors.empty()) {
    return absl::InvalidArgumentError(JoinFieldErrors(file, parsed.errors));
  }
  absl::StatusOr<FileLock> lock = LockForEdit(lab);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<weft::lab::state::v1::LabState> state = LoadState(lab);
  if (!state.ok()) return state.status();
  absl::StatusOr<weft::config::v1::ClusterConfig> current =
      ReadClusterConfig(state->cluster_config_path());
  if (!current.ok()) return current.status();
  MergeOutcome outcome =
      MergeClusterConfig(*current, state->cluster_config_path(), update, file, parsed.lines);
  if (!outcome.errors.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, " rejected, ", state->cluster_config_path(),
                     " unchanged: ", absl::StrJoin(outcome.errors, "; ")));
  }
  return WriteJsonAtomically(state->cluster_config_path(), outcome.merged);
}

}  // namespace

// `weftctl lab apply [--name LAB] FILE`: merges a ClusterConfig document (namespaces,
// services, policies, routes, traffic policies, peer authentications) into the live
// cluster.json. Nothing is written unless the merged result validates.
int RunLabApply(const std::vector<std::string>& args) {
  absl::StatusOr<LabArgs> parsed = ParseLabArgs(args, {"--name"}, {});
  if (!parsed.ok()) return ReportFailure("apply", parsed.status());
  if (parsed->positional.size() != 1 || parsed->has_command) {
    return ReportFailure("apply",
                         absl::InvalidArgumentError("usage: weftctl lab apply [--name LAB] FILE"));
  }
  absl::StatusOr<std::string> lab = ResolveLabName(parsed->Flag("--name"));
  if (!lab.ok()) return ReportFailure("apply", lab.status());
  if (absl::Status s = Apply(*lab, parsed->positional[0]); !s.ok()) {
    return ReportFailure("apply", s);
  }
  std::printf("%s applied to lab %s\n", parsed->positional[0].c_str(), lab->c_str());
  return 0;
}

}  // namespace weft::lab
