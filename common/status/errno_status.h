// errno as an absl::Status, the one way weft reports a failed syscall or libbpf call:
// the code follows the errno (absl::ErrnoToStatusCode: ENOENT is NotFound, EACCES and
// EPERM PermissionDenied, ...) and the message says what was being done and where.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace weft {

// "<what> <where>: <strerror>" ("<what>: <strerror>" without `where`). Negative
// values, as libbpf returns them, are taken as the errno they negate.
absl::Status ErrnoStatus(int err, std::string_view what, std::string_view where = {});

}  // namespace weft
