#include "agent/lab/lab_status.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "agent/lab/address_plan.h"
#include "agent/lab/agent_launcher.h"
#include "agent/lab/health_probe.h"
#include "agent/lab/lab_subcommands.h"
#include "agent/lab/state_store.h"
#include "google/protobuf/util/json_util.h"

namespace weft::lab {

using weft::lab::state::v1::LabState;
using weft::lab::state::v1::LabStatus;

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    absl::StrAppend(&out, line, "\n");
  };
  emit(header);
  for (const auto& row : rows) emit(row);
  return out;
}

namespace {

std::vector<std::string> PodRow(const weft::lab::state::v1::PodState& pod) {
  return {absl::StrCat(pod.namespace_(), "/", pod.name()),
          pod.node(),
          pod.ip(),
          pod.netns(),
          absl::StrCat(pod.sandbox_pid()),
          pod.cgroup()};
}

const std::vector<std::string> kPodHeader = {"POD", "NODE", "IP", "NETNS", "SANDBOX PID", "CGROUP"};

}  // namespace

std::string RenderLabSummary(const LabState& state) {
  std::vector<std::vector<std::string>> nodes;
  for (const auto& node : state.nodes()) {
    nodes.push_back({node.name(), node.underlay_ip(), node.pod_cidr(), node.netns(),
                     absl::StrCat(node.agent_pid()), node.admin_addr(),
                     state.ztunnel() ? absl::StrCat(node.ztunnel().pid()) : "-",
                     state.ztunnel() ? node.ztunnel().admin_addr() : "-"});
  }
  std::vector<std::vector<std::string>> pods;
  for (const auto& pod : state.pods()) pods.push_back(PodRow(pod));
  return absl::StrCat(
      "lab ", state.name(), ": ", state.nodes_size(), " nodes, ", state.pods_size(),
      " pods, state in ", StateDir(state.name()), ", config ", state.cluster_config_path(), "\n",
      RenderTable({"NODE", "UNDERLAY", "POD CIDR", "NETNS", "AGENT PID", "ADMIN", "ZTUNNEL PID",
                   "ZTUNNEL ADMIN"},
                  nodes),
      RenderTable(kPodHeader, pods));
}

LabStatus CollectStatus(const LabState& state) {
  LabStatus status;
  status.set_name(state.name());
  status.set_phase(state.phase());
  status.set_state_dir(StateDir(state.name()));
  status.set_supervisor_pid(state.supervisor_pid());
  status.set_supervisor_alive(IsSameProcess(state.supervisor_pid(), state.supervisor_start_time()));
  for (const auto& node : state.nodes()) {
    auto* out = status.add_nodes();
    *out->mutable_node() = node;
    out->set_agent_alive(IsSameProcess(node.agent_pid(), node.agent_start_time()));
    absl::Status probe = ProbeHealthz(node.netns(), node.admin_addr(), absl::Milliseconds(500));
    out->set_healthz(probe.ok() ? "ok" : std::string(probe.message()));
    if (state.ztunnel()) {
      out->set_ztunnel_alive(IsSameProcess(node.ztunnel().pid(), node.ztunnel().start_time()));
      absl::Status z =
          ProbeHealthz(node.netns(), node.ztunnel().admin_addr(), absl::Milliseconds(500));
      out->set_ztunnel_healthz(z.ok() ? "ok" : std::string(z.message()));
    } else {
      out->set_ztunnel_healthz("-");
    }
  }
  *status.mutable_pods() = state.pods();
  for (const auto& pod : state.pods()) {
    auto* out = status.add_pod_statuses();
    *out->mutable_pod() = pod;
    out->set_sandbox_alive(IsSameProcess(pod.sandbox_pid(), pod.sandbox_start_time()));
  }
  return status;
}

std::string RenderStatusTable(const LabStatus& status) {
  std::vector<std::vector<std::string>> nodes;
  for (const auto& n : status.nodes()) {
    nodes.push_back({n.node().name(), n.node().underlay_ip(), n.node().pod_cidr(),
                     absl::StrCat(n.node().agent_pid()), n.agent_alive() ? "yes" : "no",
                     absl::StrCat(n.node().agent_restarts()), n.healthz(),
                     n.ztunnel_healthz() == "-" ? "-" : absl::StrCat(n.node().ztunnel().pid()),
                     n.ztunnel_healthz() == "-" ? "-" : (n.ztunnel_alive() ? "yes" : "no"),
                     n.ztunnel_healthz()});
  }
  std::vector<std::vector<std::string>> pods;
  for (const auto& p : status.pod_statuses()) {
    std::vector<std::string> row = PodRow(p.pod());
    row.insert(row.begin() + 5, p.sandbox_alive() ? "yes" : "no");
    row.insert(row.begin() + 6, absl::StrCat(p.pod().sandbox_restarts()));
    pods.push_back(std::move(row));
  }
  return absl::StrCat(
      "lab ", status.name(), ": ", status.phase(), ", supervisor pid ", status.supervisor_pid(),
      status.supervisor_alive() ? " (running)" : " (not running)", ", state in ",
      status.state_dir(), "\n",
      RenderTable({"NODE", "UNDERLAY", "POD CIDR", "AGENT PID", "ALIVE", "RESTARTS", "HEALTHZ",
                   "ZTUNNEL PID", "ALIVE", "HEALTHZ"},
                  nodes),
      RenderTable({"POD", "NODE", "IP", "NETNS", "SANDBOX PID", "ALIVE", "RESTARTS", "CGROUP"},
                  pods));
}

// `weftctl lab status [--name LAB] [--output table|json]`: the lab's nodes and pods
// from its state, checked against the running system.
int RunLabStatus(const std::vector<std::string>& args) {
  absl::StatusOr<LabArgs> parsed = ParseLabArgs(args, {"--name", "--output"}, {});
  if (!parsed.ok()) return ReportFailure("status", parsed.status());
  if (!parsed->positional.empty() || parsed->has_command) {
    return ReportFailure(
        "status",
        absl::InvalidArgumentError("usage: weftctl lab status [--name LAB] [--output table|json]"));
  }
  const std::string output = parsed->Flag("--output", "table");
  if (output != "table" && output != "json") {
    return ReportFailure("status", absl::InvalidArgumentError(absl::StrCat(
                                       "--output: expected table or json, got \"", output, "\"")));
  }
  absl::StatusOr<std::string> lab = ResolveLabName(parsed->Flag("--name"));
  if (!lab.ok()) return ReportFailure("status", lab.status());
  absl::StatusOr<weft::lab::state::v1::LabState> state = LoadState(*lab);
  if (!state.ok()) return ReportFailure("status", state.status());

  weft::lab::state::v1::LabStatus status = CollectStatus(*state);
  if (output == "table") {
    std::fputs(RenderStatusTable(status).c_str(), stdout);
    return 0;
  }
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  auto encoded = google::protobuf::util::MessageToJsonString(status, &json, options);
  if (!encoded.ok()) {
    return ReportFailure("status", absl::InternalError(std::string(encoded.message())));
  }
  std::fputs(json.c_str(), stdout);
  return 0;
}

}  // namespace weft::lab
