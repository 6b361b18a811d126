// Opening the two ends of a unix SOCK_SEQPACKET socket bound to a filesystem path.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/event/scoped_fd.h"

namespace weft::nodeapi {

// Binds and listens on `path`, mode 0600 (only root's ztunnel may take netns fds). A socket
// file left by an earlier agent is unlinked first; any other kind of file is an error, never
// deleted. The mode is set between bind() and listen(), so no connect can slip in before.
absl::StatusOr<event::ScopedFd> ListenUnixSeqPacket(const std::string& path);

// One connect() attempt. ENOENT/ECONNREFUSED come back as Unavailable (the agent is not up
// yet: worth retrying); other errors keep their errno code.
absl::StatusOr<event::ScopedFd> ConnectUnixSeqPacket(const std::string& path);

}  // namespace weft::nodeapi
