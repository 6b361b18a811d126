// The `stunnel` comparison mode: a pair of stunnel4 relays doing mutual TLS between two
// network namespaces, the simplest thing a user could deploy instead of a mesh. The client
// side listens on 127.0.0.1:client_port in the client netns and connects to
// server_ip:server_port; the server side terminates TLS there (client certificate
// required) and connects to the application. Both run in the foreground as our children,
// so their pids can be measured (CPU, RSS) and they die with the bench (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/modes/stunnel_config.h"

namespace weft::bench::modes {

struct StunnelPairOptions {
  std::string client_netns_path;  // /run/netns/..., any netns file works
  std::string server_netns_path;
  std::string server_ip;  // an address of the server netns, reachable from the client netns
  std::vector<StunnelService> services;
  std::string work_dir;  // certs, configs, logs go here (created if missing)
  std::string stunnel_binary = "stunnel4";
  // TCP_NODELAY on both legs of both relays, as ztunnel sets it on every socket it opens
  // or accepts (ztunnel/netns_socket.cc): the comparison stays fair.
  bool tcp_nodelay = true;
  // stunnel `debug = info`: each handshake and peer certificate is logged (the tests read
  // it); `false` logs only notices, for connection-rate runs.
  bool log_connections = true;
  int ready_timeout_ms = 5000;  // bound for both relays to accept connections
};

class StunnelPair {
 public:
  // Makes a throwaway PKI and both configs in work_dir, starts the server side, then the
  // client side, and waits until each accepts TCP connections (probed from inside its
  // netns). An error names the side and what failed, with the tail of its log.
  static absl::StatusOr<std::unique_ptr<StunnelPair>> Start(const StunnelPairOptions& options);
  ~StunnelPair();  // SIGTERM to both, SIGKILL after 2 s, reaped
  StunnelPair(const StunnelPair&) = delete;
  StunnelPair& operator=(const StunnelPair&) = delete;

  pid_t client_pid() const { return client_.pid; }
  pid_t server_pid() const { return server_.pid; }
  const std::string& client_log_path() const { return client_.log_path; }
  const std::string& server_log_path() const { return server_.log_path; }

  // One line for "what this mode includes": version, threading, TLS version, ciphersuites,
  // certificates, mutual authentication, TCP_NODELAY.
  std::string Describe() const;

 private:
  struct Relay {
    std::string name;  // "client" | "server"
    std::string netns_path;
    std::string config_path;
    std::string log_path;     // stunnel's `output`
    std::string stderr_path;  // what it printed before the log was open
    pid_t pid = -1;
  };

  explicit StunnelPair(StunnelPairOptions options) : options_(std::move(options)) {}
  absl::Status Spawn(Relay& relay);
  absl::Status WaitAccepting(Relay& relay, const std::string& host, uint16_t port);
  // "<side> stunnel (...): <what>; log tail: ..." for a failed start.
  absl::Status Failure(const Relay& relay, const std::string& what) const;
  static void Stop(Relay& relay);

  StunnelPairOptions options_;
  std::string version_;  // "stunnel 5.68", from `-version`
  Relay client_;
  Relay server_;
};

}  // namespace weft::bench::modes
