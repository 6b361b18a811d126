// The NodeApi gRPC service (proto/weft/nodeapi/v1/node_api.proto): config streams, certificate
// issuance and status, served by the sync gRPC server that NodeApiServer runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/nodeapi/node_api_metrics.h"
#include "agent/nodeapi/node_api_options.h"
#include "agent/nodeapi/snapshot_broadcast.h"
#include "weft/nodeapi/v1/node_api.grpc.pb.h"

namespace weft::agent::nodeapi {

// One open StreamConfig call, as the agent sees it.
struct ConfigStreamState {
  uint64_t id = 0;
  std::string peer;
  uint64_t last_sent_version = 0;
  uint64_t last_acked_version = 0;  // the last version the client answered, applied or not
  std::string last_ack_error;       // empty when that version was applied
};

class NodeApiService final : public weft::nodeapi::v1::NodeApi::Service {
 public:
  NodeApiService(const NodeApiOptions& options, NodeApiMetrics* metrics,
                 std::shared_ptr<SnapshotBroadcast> broadcast);

  grpc::Status StreamConfig(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<weft::nodeapi::v1::ConfigUpdate, weft::nodeapi::v1::ConfigAck>*
          stream) override;
  grpc::Status IssueCertificate(grpc::ServerContext* context,
                                const weft::nodeapi::v1::CertificateRequest* request,
                                weft::nodeapi::v1::CertificateResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context,
                         const weft::nodeapi::v1::StatusRequest* request,
                         weft::nodeapi::v1::StatusResponse* response) override;

  const std::string& agent_epoch() const { return epoch_; }
  uint64_t last_acked_version() const { return last_applied_.load(); }
  std::vector<ConfigStreamState> ConfigStreams() const;

 private:
  uint64_t OpenStream(const std::string& peer);
  void CloseStream(uint64_t id);
  void RecordSent(uint64_t id, uint64_t version);
  void RecordAck(uint64_t id, const weft::nodeapi::v1::ConfigAck& ack);
  absl::Duration EffectiveTtl(int64_t requested_seconds) const;

  const NodeApiOptions& options_;
  NodeApiMetrics* const metrics_;
  const std::shared_ptr<SnapshotBroadcast> broadcast_;
  const std::string epoch_;  // random per server: tells ztunnel the agent restarted

  mutable std::mutex streams_mu_;
  std::map<uint64_t, ConfigStreamState> streams_;  // guarded by streams_mu_
  uint64_t next_stream_id_ = 1;                    // guarded by streams_mu_
  std::atomic<uint64_t> last_applied_{0};
};

}  // namespace weft::agent::nodeapi
