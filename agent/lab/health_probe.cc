#include "agent/lab/health_probe.h"

#include "absl/strings/str_cat.h"
#include "common/admin/admin_client.h"

namespace weft::lab {

absl::Status ProbeHealthz(const std::string& netns, const std::string& admin_addr,
                          absl::Duration timeout) {
  absl::StatusOr<admin::AdminReply> reply = admin::AdminGet(
      admin_addr, "/healthz", {.netns_path = "/run/netns/" + netns, .timeout = timeout});
  if (!reply.ok()) return reply.status();
  if (reply->status < 200 || reply->status > 299) {
    return absl::UnavailableError(
        absl::StrCat("admin ", admin_addr, ": /healthz answered HTTP ", reply->status));
  }
  return absl::OkStatus();
}

}  // namespace weft::lab
