// Server roles the ztunnel lab tests run inside a server pod's network namespace (as
// PodProcess bodies; a server need not be in the pod's cgroup: inbound traffic reaches it
// through ztunnel's HBONE listener whatever process listens). Each writes "ready" on its
// channel once listening, and returns when the channel closes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::ztunnel::testing {

// Accepts one connection on `port` and compares everything it carries, up to EOF, with
// PayloadStream(seed). Then answers "done <bytes>\n" on the connection and reports
// "received <bytes> <first mismatching offset or -1> <peer ip:port>" on the channel.
int RunBulkReceiver(int channel, uint16_t port, uint64_t seed);

// For every connection on `ports`: writes "<name>\n" and closes it. Channel command
// "count" -> "count <connections accepted so far>".
int RunNamedServer(int channel, std::string name, std::vector<uint16_t> ports);

// An epoll echo server on `port` for thousands of connections (raises RLIMIT_NOFILE first).
// Channel command "stats" -> "stats <accepted> <open>".
int RunEpollEchoServer(int channel, uint16_t port);

}  // namespace weft::ztunnel::testing
