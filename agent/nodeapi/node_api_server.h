// The agent's node API server: gRPC (NodeApi) on a unix socket that only the agent's user can
// reach, serving the node's ztunnel(s) config snapshots, certificates and status.
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/nodeapi/node_api_metrics.h"
#include "agent/nodeapi/node_api_options.h"
#include "agent/nodeapi/node_api_service.h"
#include "agent/nodeapi/snapshot_broadcast.h"

namespace weft::agent::nodeapi {

class NodeApiServer {
 public:
  // Prepares the socket path (see PrepareSocketPath), binds, makes the socket 0600 and starts
  // serving. Errors: InvalidArgument (options), AlreadyExists (another server on the path),
  // FailedPrecondition (a non-socket file in the way), Internal (gRPC could not bind).
  static absl::StatusOr<std::unique_ptr<NodeApiServer>> Create(NodeApiOptions options);
  ~NodeApiServer();

  // Ends every call (open config streams included) and removes the socket file; returns within
  // about a second. Idempotent.
  void Stop();

  // Highest config version any client acked as applied (0: none yet).
  uint64_t last_acked_version() const { return service_->last_acked_version(); }
  std::vector<ConfigStreamState> ConfigStreams() const { return service_->ConfigStreams(); }
  const std::string& agent_epoch() const { return service_->agent_epoch(); }
  const std::string& socket_path() const { return options_.socket_path; }

 private:
  explicit NodeApiServer(NodeApiOptions options) : options_(std::move(options)) {}

  const NodeApiOptions options_;
  std::unique_ptr<NodeApiMetrics> metrics_;
  std::shared_ptr<SnapshotBroadcast> broadcast_;
  std::unique_ptr<NodeApiService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::mutex stop_mu_;
  bool stopped_ = false;  // guarded by stop_mu_
};

}  // namespace weft::agent::nodeapi
