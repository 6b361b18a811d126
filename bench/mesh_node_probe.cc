#include "bench/mesh_node_probe.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/admin/admin_client.h"
#include "google/protobuf/util/json_util.h"

namespace weft::bench {
namespace {

absl::StatusOr<std::string> Get(const std::string& address, const std::string& netns,
                                const std::string& path) {
  weft::admin::AdminGetOptions options;
  options.netns_path = "/run/netns/" + netns;
  absl::StatusOr<weft::admin::AdminReply> reply = weft::admin::AdminGet(address, path, options);
  if (!reply.ok()) return reply.status();
  if (reply->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("GET ", path, " from ", address, ": HTTP ", reply->status));
  }
  return reply->body;
}

}  // namespace

absl::StatusOr<weft::admin::v1::WorkloadsDump> ReadEnrolledWorkloads(
    const weft::lab::state::v1::NodeState& node) {
  absl::StatusOr<std::string> body = Get(node.admin_addr(), node.netns(), "/debug/workloads");
  if (!body.ok()) return body.status();
  weft::admin::v1::WorkloadsDump dump;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (auto s = google::protobuf::util::JsonStringToMessage(*body, &dump, options); !s.ok()) {
    return absl::InternalError(absl::StrCat(
        "node ", node.name(), ": unreadable /debug/workloads: ", std::string(s.message())));
  }
  return dump;
}

namespace {

// A "<field>:   1234 kB" line of /proc/<pid>/status.
absl::StatusOr<double> ReadStatusKib(pid_t pid, const std::string& field) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  std::ifstream status(path);
  if (!status.good()) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  const std::string prefix = field + ":";
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0) return std::strtod(line.c_str() + prefix.size(), nullptr);
  }
  return absl::NotFoundError(absl::StrCat("no ", field, " in ", path));
}

}  // namespace

absl::StatusOr<double> ReadRssKib(pid_t pid) { return ReadStatusKib(pid, "VmRSS"); }

absl::StatusOr<double> ReadRssAnonKib(pid_t pid) { return ReadStatusKib(pid, "RssAnon"); }

absl::StatusOr<double> ReadZtunnelCounter(const weft::lab::state::v1::NodeState& node,
                                          const std::string& metric) {
  if (!node.has_ztunnel()) {
    return absl::FailedPreconditionError(absl::StrCat("node ", node.name(), " has no ztunnel"));
  }
  absl::StatusOr<std::string> body = Get(node.ztunnel().admin_addr(), node.netns(), "/metrics");
  if (!body.ok()) return body.status();
  return SumOfSamples(*body, metric);
}

double SumOfSamples(const std::string& exposition, const std::string& metric) {
  std::istringstream in(exposition);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.rfind(metric, 0) != 0 || line.size() <= metric.size()) continue;
    const char next = line[metric.size()];
    if (next != '{' && next != ' ') continue;  // another family sharing the prefix
    const size_t value_at = next == '{' ? line.rfind('}') : metric.size();
    if (value_at == std::string::npos) continue;
    sum += std::strtod(line.c_str() + value_at + 1, nullptr);
  }
  return sum;
}

}  // namespace weft::bench
