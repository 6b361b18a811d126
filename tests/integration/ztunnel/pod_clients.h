// Client roles the ztunnel lab tests run inside a client pod (as PodProcess bodies placed in
// the pod's netns AND cgroup: only sockets of processes in the pod's cgroup are captured).
// Each reads commands line by line from its channel and answers each with one line.
#pragma once

namespace weft::ztunnel::testing {

// "send IP PORT BYTES SEED": connects (retrying refused connects for up to 10 s), writes
// BYTES of PayloadStream(SEED), half-closes, and waits for the receiver's "done <n>".
// Reply: "sent <bytes written> <receiver's line, or err:<why>> <elapsed ms>".
int RunBulkSender(int channel);

// Thousands of concurrent connections on one epoll loop (raises RLIMIT_NOFILE first):
//   "open N IP PORT" -> "opened <ok> <failed> <first error or -> <ms> <kind:count,... or ->":
//                       N connects, at most 256 in flight, each sending a 16-byte message and
//                       awaiting its echo (a round gives up after 30 s: "timeout")
//   "echo"           -> "echoed ..." (same fields) over every open connection
//   "close"          -> "closed <n>"
int RunConnectionSwarm(int channel);

}  // namespace weft::ztunnel::testing
