// The unix socket file the node API listens on: who may reach it is decided by its mode and its
// directory's, so both are set here rather than left to the umask.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace weft::agent::nodeapi {

// Makes `path` ready for a fresh bind: creates the parent directory (0700) if missing, removes a
// stale socket file, and refuses a socket another process still serves (AlreadyExists) or any
// other kind of file (FailedPrecondition): those are never deleted.
absl::Status PrepareSocketPath(const std::string& path);

// chmod 0600 once the server has bound the socket (gRPC binds with the process umask).
absl::Status RestrictSocketMode(const std::string& path);

}  // namespace weft::agent::nodeapi
