#include "agent/nodeapi/node_api_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "agent/nodeapi/socket_path_preparation.h"
#include "common/log/logger.h"

namespace weft::agent::nodeapi {
namespace {

// Calls still open this long after Stop() are cancelled; leaves room within the 1 s promise.
constexpr auto kShutdownGrace = std::chrono::milliseconds(300);

absl::Status CheckOptions(const NodeApiOptions& options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("node API: store is required");
  if (options.node.empty()) return absl::InvalidArgumentError("node API: node is required");
  if (options.cert_max_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "node API: the maximum certificate lifetime must be positive");
  }
  if (options.cert_default_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "node API: the default certificate lifetime must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<NodeApiServer>> NodeApiServer::Create(NodeApiOptions options) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  if (absl::Status s = PrepareSocketPath(options.socket_path); !s.ok()) return s;

  std::unique_ptr<NodeApiServer> server(new NodeApiServer(std::move(options)));
  auto metrics = NodeApiMetrics::Create(server->options_.metrics);
  if (!metrics.ok()) return metrics.status();
  server->metrics_ = *std::move(metrics);
  server->broadcast_ = SnapshotBroadcast::Attach(server->options_.store);
  server->service_ = std::make_unique<NodeApiService>(server->options_, server->metrics_.get(),
                                                      server->broadcast_);

  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(absl::StrCat("unix:", server->options_.socket_path),
                           grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || bound == 0) {
    return absl::InternalError(
        absl::StrCat("node API: cannot listen on unix:", server->options_.socket_path));
  }
  // gRPC bound with the umask's mode; the parent directory (0700 when we made it) covers the
  // moment until this chmod. A failure here is fatal: the socket would be too open.
  if (absl::Status s = RestrictSocketMode(server->options_.socket_path); !s.ok()) {
    server->Stop();
    return s;
  }
  log::Info("node API listening",
            {{"socket", server->options_.socket_path},
             {"node", server->options_.node},
             {"agent_epoch", server->service_->agent_epoch()},
             {"ca", server->options_.ca != nullptr || server->options_.ca_source != nullptr}});
  return server;
}

NodeApiServer::~NodeApiServer() { Stop(); }

void NodeApiServer::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  // Streams first notice the closed broadcast and return; Shutdown's deadline covers any call
  // stuck in a write to a client that stopped reading.
  if (broadcast_ != nullptr) broadcast_->Close();
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
    server_->Wait();
  }
  struct stat st;
  if (lstat(options_.socket_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    unlink(options_.socket_path.c_str());
  }
  log::Info("node API stopped", {{"socket", options_.socket_path}});
}

}  // namespace weft::agent::nodeapi
