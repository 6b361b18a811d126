// The server side of weft-loadgen: one epoll thread serving every connection in one of
// three modes.
//   echo   - reads framed requests (wire_framing.h) and answers each with the response
//            size its header asks for; requests may be pipelined.
//   sink   - reads and discards everything (bulk upload target).
//   source - writes zeros as fast as the socket takes them (bulk download source).
// Run() is bounded: it returns at Stop() (callable from any thread or a signal handler's
// thread) or once `max_duration_ns` has passed, so a forgotten server never outlives a lab.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/loadgen/epoll_set.h"
#include "common/event/scoped_fd.h"
#include "common/event/socket_address.h"

namespace weft::loadgen {

enum class ServerMode { kEcho, kSink, kSource };
absl::StatusOr<ServerMode> ParseServerMode(std::string_view text);

struct ServerOptions {
  event::SocketAddress listen;  // port 0 picks a free port (see LoadServer::address())
  ServerMode mode = ServerMode::kEcho;
  int64_t max_duration_ns = int64_t{600} * 1'000'000'000;
};

// What the server saw; read it after Run() returned.
struct ServerCounters {
  uint64_t connections_accepted = 0;
  uint64_t requests_answered = 0;  // echo mode
  uint64_t protocol_errors = 0;    // oversized or malformed headers (connection closed)
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
};

class LoadServer {
 public:
  // Binds and listens at once, so address() is valid (and connectable) on return.
  static absl::StatusOr<std::unique_ptr<LoadServer>> Create(const ServerOptions& options);
  ~LoadServer();

  const event::SocketAddress& address() const { return bound_; }
  absl::Status Run();
  void Stop();
  const ServerCounters& counters() const { return counters_; }

 private:
  struct Connection;

  LoadServer(const ServerOptions& options, event::ScopedFd listener, event::ScopedFd wakeup,
             event::SocketAddress bound, std::unique_ptr<EpollSet> epoll);
  void AcceptAll();
  void Serve(Connection& connection, uint32_t events);
  // Each returns false when the connection is finished (EOF, error, protocol error).
  bool ServeEcho(Connection& connection);
  bool ServeSink(Connection& connection);
  bool ServeSource(Connection& connection);
  bool ParseBufferedRequests(Connection& connection);
  void SetInterest(Connection& connection, uint32_t events);
  void Close(int fd);

  ServerOptions options_;
  event::ScopedFd listener_;
  event::ScopedFd wakeup_;  // eventfd written by Stop()
  event::SocketAddress bound_;
  std::unique_ptr<EpollSet> epoll_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::vector<uint8_t> discard_;  // sink mode reads land here
  ServerCounters counters_;
};

}  // namespace weft::loadgen
