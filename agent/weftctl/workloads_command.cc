#include "agent/weftctl/workloads_command.h"

#include <iomanip>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/lab/state_store.h"
#include "common/admin/admin_client.h"
#include "agent/weftctl/command_flags.h"
#include "common/cli/flag_set.h"
#include "google/protobuf/util/json_util.h"
#include "weft/admin/v1/agent_debug.pb.h"

namespace weft::weftctl {
namespace {

using weft::admin::v1::WorkloadsDump;

struct AgentEndpoint {
  std::string admin_addr;
  std::string netns_path;  // empty: this netns
};

absl::StatusOr<WorkloadsDump> Fetch(const AgentEndpoint& agent) {
  auto reply = admin::AdminGet(agent.admin_addr, "/debug/workloads", {.netns_path = agent.netns_path});
  if (!reply.ok()) return reply.status();
  if (reply->status != 200) {
    return absl::UnavailableError(absl::StrCat("agent at ", agent.admin_addr, " answered HTTP ",
                                               reply->status));
  }
  WorkloadsDump dump;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer agent may report more
  if (auto s = google::protobuf::util::JsonStringToMessage(reply->body, &dump, options); !s.ok()) {
    return absl::DataLossError(absl::StrCat("agent at ", agent.admin_addr,
                                            ": unreadable /debug/workloads: ",
                                            std::string(s.message())));
  }
  return dump;
}

void PrintTable(const std::vector<WorkloadsDump>& dumps) {
  std::vector<std::vector<std::string>> rows = {
      {"NODE", "WORKLOAD", "IDENTITY", "ADDRESSES", "NETNS COOKIE", "ID", "MODE"}};
  for (const WorkloadsDump& d : dumps) {
    for (const auto& w : d.workloads()) {
      rows.push_back({d.node(), absl::StrCat(w.namespace_(), "/", w.name()), w.identity(),
                      absl::StrJoin(w.addresses(), ","), absl::StrCat(w.netns_cookie()),
                      absl::StrCat(w.workload_id()), w.mode()});
    }
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::ostringstream line;
    for (size_t i = 0; i < row.size(); ++i) {
      line << std::left << std::setw(static_cast<int>(i + 1 < row.size() ? width[i] + 2 : 0))
           << row[i];
    }
    std::cout << line.str() << "\n";
  }
}

}  // namespace

int RunWorkloads(const std::vector<std::string>& args) {
  std::string admin_addr, netns, lab, output;
  cli::FlagSet flags("weftctl workloads [--admin ADDR [--netns PATH] | --lab NAME] [--output table|json]",
                     "Lists the workloads node agents have enrolled in the mesh.");
  flags.String("admin", &admin_addr, "127.0.0.1:15020", "the agent's admin address");
  flags.String("netns", &netns, "", "network namespace (path) the admin address lives in");
  flags.String("lab", &lab, "", "ask every node agent of this local lab instead");
  flags.String("output", &output, "table", "table or json");
  if (auto exit = ParseCommandFlags(flags, args, "workloads", output)) return *exit;
  auto fail = [](const std::string& why) { return CommandFailure("workloads", why); };
  std::vector<AgentEndpoint> agents;
  if (lab.empty()) {
    agents.push_back({admin_addr, netns});
  } else {
    auto state = weft::lab::LoadState(lab);
    if (!state.ok()) return fail(std::string(state.status().message()));
    for (const auto& node : state->nodes()) {
      agents.push_back({node.admin_addr(), "/run/netns/" + node.netns()});
    }
  }
  std::vector<WorkloadsDump> dumps;
  for (const AgentEndpoint& agent : agents) {
    auto dump = Fetch(agent);
    if (!dump.ok()) return fail(std::string(dump.status().message()));
    dumps.push_back(*std::move(dump));
  }
  if (output == "table") {
    PrintTable(dumps);
    return 0;
  }
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::cout << "[";
  for (size_t i = 0; i < dumps.size(); ++i) {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(dumps[i], &json, print);
    std::cout << (i ? "," : "") << json;
  }
  std::cout << "]\n";
  return 0;
}

}  // namespace weft::weftctl
