// A small blocking HTTP/1.1 GET against a weft admin port, for weftctl and the lab.
// An admin server may listen on an address that exists only inside a network
// namespace (a lab node's underlay IP), so the socket can be created there: the
// connect happens in a short-lived thread that has entered the namespace; the rest
// of the caller stays where it is.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weft::admin {

struct AdminGetOptions {
  std::string netns_path;  // e.g. /run/netns/weft-demo-node-a; empty: the caller's netns
  absl::Duration timeout = absl::Seconds(2);
};

struct AdminReply {
  int status = 0;
  std::string body;
};

// GET `path` from `address` ("ip:port"). Errors name the address and what failed
// (refused, timed out, malformed reply); any HTTP status is a reply, not an error.
absl::StatusOr<AdminReply> AdminGet(const std::string& address, const std::string& path,
                                    const AdminGetOptions& options = {});

}  // namespace weft::admin
