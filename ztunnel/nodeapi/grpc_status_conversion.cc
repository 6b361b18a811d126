#include "ztunnel/nodeapi/grpc_status_conversion.h"

#include "absl/strings/str_cat.h"

namespace weft::ztunnel {

absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(static_cast<int>(status.error_code())),
                      absl::StrCat(what, ": ", status.error_message()));
}

}  // namespace weft::ztunnel
