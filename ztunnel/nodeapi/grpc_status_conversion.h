// gRPC status <-> absl::Status: both use the canonical code numbering, so the code carries over
// unchanged and callers can branch on PermissionDenied, Unavailable, ... as elsewhere in weft.
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace weft::ztunnel {

// `what` says which call failed, e.g. "IssueCertificate".
absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& what);

}  // namespace weft::ztunnel
