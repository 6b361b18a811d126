// Who takes part in a request between two pods of a running lab, as HopParticipants:
// the client pod's cgroup, the client node's ztunnel (only its sockets in the client
// pod's netns), the server node's ztunnel (server pod's netns) and the server pod's
// cgroup. Read from the lab's state.json (agent/lab).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/hoptrace/hop_tracer.h"

namespace weft::hoptrace {

// `from` and `to` are pod references as `weftctl lab` takes them ("demo/client").
// A lab without ztunnels gives the two apps only.
absl::StatusOr<std::vector<HopParticipant>> LabParticipants(const std::string& lab,
                                                            const std::string& from,
                                                            const std::string& to);

}  // namespace weft::hoptrace
