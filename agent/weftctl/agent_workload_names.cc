#include "agent/weftctl/agent_workload_names.h"

#include "absl/strings/str_cat.h"
#include "common/admin/admin_client.h"
#include "google/protobuf/util/json_util.h"
#include "weft/admin/v1/agent_debug.pb.h"

namespace weft::weftctl {

absl::StatusOr<WorkloadNames> FetchWorkloadNames(const AgentInstance& instance) {
  if (instance.admin_addr.empty()) {
    return absl::UnavailableError(absl::StrCat("admin address of instance ", instance.name,
                                               " not known (use --instance "
                                               "with --admin, or --lab)"));
  }
  auto reply = admin::AdminGet(instance.admin_addr, "/debug/workloads",
                               {.netns_path = instance.admin_netns});
  if (!reply.ok()) return reply.status();
  if (reply->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("agent at ", instance.admin_addr, " answered HTTP ", reply->status));
  }
  weft::admin::v1::WorkloadsDump dump;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer agent may report more
  if (auto s = google::protobuf::util::JsonStringToMessage(reply->body, &dump, options); !s.ok()) {
    return absl::DataLossError(
        absl::StrCat("agent at ", instance.admin_addr,
                     ": unreadable /debug/workloads: ", std::string(s.message())));
  }
  WorkloadNames names;
  names.node = dump.node();
  for (const auto& w : dump.workloads()) {
    std::string name = absl::StrCat(w.namespace_(), "/", w.name());
    names.by_id[w.workload_id()] = name;
    names.by_cookie[w.netns_cookie()] = name;
  }
  for (int i = 0; i < dump.kernel_policies_size(); ++i) {
    names.policies[static_cast<uint32_t>(i + 1)] = dump.kernel_policies(i);
  }
  return names;
}

}  // namespace weft::weftctl
