// The benchmark application's wire protocol, its pod-side bodies and the replies they
// send back to the benchmark over the pod channel.
//
// On the wire (client -> server, over whatever path the mode gives: direct or mesh), a
// connection starts with one command line and the server answers "ok <peer ip:port>"
// (the address the server saw, which tells direct from proxied), then:
//   "bulk <bytes>"  client streams <bytes> of a fixed pattern; the server checks every
//                   byte and answers "got" (or "corrupt") once it has all of them.
//   "rr"            the server echoes whatever arrives (request/response).
//   "hold"          the server keeps the connection open and idle until EOF.
// Waiting for "ok" is what proves the whole path is up: through the mesh, connect()
// completes at the client's ztunnel, long before the server has the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace weft::bench {

inline constexpr uint16_t kAppPort = 8080;

// Byte `offset` of a bulk stream. A period of 251 (prime) so a chunk boundary never lines
// up with it and a dropped or repeated chunk shows as corruption.
inline constexpr size_t kPatternPeriod = 251;
inline uint8_t PatternByte(uint64_t offset) {
  return static_cast<uint8_t>(offset % kPatternPeriod);
}

// Server body (server pod): listens on 0.0.0.0:`port`, writes "ready", serves every
// connection in one epoll loop until the channel closes.
int RunAppServer(int channel, uint16_t port);

// Client body (client pod, or just its netns for `direct`): writes "ready", then runs one
// command per channel line and answers one line:
//   bulk IP PORT BYTES             -> "bulk <seconds> <bytes> <peer>"
//   rr IP PORT SIZE WARMUP COUNT   -> "rr <count> <p50 us> <p99 us> <round trips/s> <peer>"
//   hold IP PORT COUNT             -> "held <count> <seconds>" (connections kept open)
//   release                        -> "released <count>"
// or "err <why>" for any of them.
int RunAppClient(int channel);

struct BulkReply {
  double seconds = 0;  // first byte sent -> "got" received
  uint64_t bytes = 0;
  std::string server_saw;  // peer address as the server saw it
};

struct RequestResponseReply {
  int round_trips = 0;
  double p50_us = 0;
  double p99_us = 0;
  double per_second = 0;  // round trips / wall time of the timed loop
  std::string server_saw;
};

struct HoldReply {
  int held = 0;
  double seconds = 0;  // to open (and confirm) all of them
};

// Parse a client reply; "err ..." and anything malformed become an error carrying the text.
absl::StatusOr<BulkReply> ParseBulkReply(const std::string& line);
absl::StatusOr<RequestResponseReply> ParseRequestResponseReply(const std::string& line);
absl::StatusOr<HoldReply> ParseHoldReply(const std::string& line);

}  // namespace weft::bench
