#include "agent/nodeapi/node_api_service.h"

#include <algorithm>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log/logger.h"

namespace weft::agent::nodeapi {
namespace {

using weft::nodeapi::v1::CertificateRequest;
using weft::nodeapi::v1::CertificateResponse;
using weft::nodeapi::v1::ConfigAck;
using weft::nodeapi::v1::ConfigUpdate;

// How often a waiting stream re-checks that its call is still alive even without a wake-up.
constexpr absl::Duration kStreamPollInterval = absl::Milliseconds(200);

// absl and gRPC share the canonical code numbering, so the value carries over unchanged.
grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(status.code())),
                      std::string(status.message()));
}

std::string RandomEpoch() {
  absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

}  // namespace

NodeApiService::NodeApiService(const NodeApiOptions& options, NodeApiMetrics* metrics,
                               std::shared_ptr<SnapshotBroadcast> broadcast)
    : options_(options),
      metrics_(metrics),
      broadcast_(std::move(broadcast)),
      epoch_(RandomEpoch()) {}

grpc::Status NodeApiService::StreamConfig(
    grpc::ServerContext* context, grpc::ServerReaderWriter<ConfigUpdate, ConfigAck>* stream) {
  const uint64_t id = OpenStream(context->peer());
  // Acks arrive independently of updates, so they are read on their own thread; the sync API
  // allows one reader and one writer on a stream at the same time.
  std::atomic<bool> reader_done{false};
  std::thread reader([&] {
    ConfigAck ack;
    while (stream->Read(&ack)) RecordAck(id, ack);
    reader_done = true;
    broadcast_->WakeAll();
  });

  uint64_t sent = 0;
  grpc::Status result = grpc::Status::OK;
  while (!reader_done && !context->IsCancelled()) {
    if (broadcast_->closed()) {
      result = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the agent's node API is stopping");
      break;
    }
    // Always the newest snapshot: intermediate versions a slow client missed are skipped.
    std::shared_ptr<const config::ConfigSnapshot> snapshot =
        broadcast_->WaitNewer(sent, kStreamPollInterval);
    if (snapshot == nullptr) continue;
    ConfigUpdate update;
    update.set_version(snapshot->version);
    update.set_agent_epoch(epoch_);
    update.set_node(options_.node);
    *update.mutable_snapshot() = snapshot->config;
    if (!stream->Write(update)) break;
    sent = snapshot->version;
    RecordSent(id, sent);
  }
  // Unblocks the reader when the loop ended on our side (stop, failed write).
  context->TryCancel();
  reader.join();
  CloseStream(id);
  return result;
}

uint64_t NodeApiService::OpenStream(const std::string& peer) {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    id = next_stream_id_++;
    ConfigStreamState& state = streams_[id];
    state.id = id;
    state.peer = peer;
  }
  metrics_->StreamOpened();
  log::Info("config stream opened", {{"stream", id}, {"peer", peer}});
  return id;
}

void NodeApiService::CloseStream(uint64_t id) {
  ConfigStreamState last;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    last = streams_[id];
    streams_.erase(id);
  }
  metrics_->StreamClosed();
  log::Info("config stream closed", {{"stream", id},
                                     {"last_sent_version", last.last_sent_version},
                                     {"last_acked_version", last.last_acked_version}});
}

void NodeApiService::RecordSent(uint64_t id, uint64_t version) {
  std::lock_guard<std::mutex> lock(streams_mu_);
  streams_[id].last_sent_version = version;
}

void NodeApiService::RecordAck(uint64_t id, const ConfigAck& ack) {
  const bool applied = ack.error().empty();
  // Counted before the stream state shows the ack, so whoever sees the state sees the count.
  metrics_->RecordAck(applied);
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    ConfigStreamState& state = streams_[id];
    state.last_acked_version = ack.version();
    state.last_ack_error = ack.error();
  }
  if (applied) {
    uint64_t seen = last_applied_.load();
    while (ack.version() > seen && !last_applied_.compare_exchange_weak(seen, ack.version())) {
    }
  } else {
    log::Warn("ztunnel rejected a config version",
              {{"stream", id}, {"version", ack.version()}, {"error", ack.error()}});
  }
}

std::vector<ConfigStreamState> NodeApiService::ConfigStreams() const {
  std::lock_guard<std::mutex> lock(streams_mu_);
  std::vector<ConfigStreamState> out;
  for (const auto& [id, state] : streams_) out.push_back(state);
  return out;
}

absl::Duration NodeApiService::EffectiveTtl(int64_t requested_seconds) const {
  if (requested_seconds == 0) return std::min(options_.cert_default_ttl, options_.cert_max_ttl);
  return std::min(absl::Seconds(requested_seconds), options_.cert_max_ttl);
}

grpc::Status NodeApiService::IssueCertificate(grpc::ServerContext* /*context*/,
                                              const CertificateRequest* request,
                                              CertificateResponse* response) {
  absl::StatusOr<const ca::LocalCa*> ca = options_.ca;
  if (options_.ca_source) ca = options_.ca_source();
  if (ca.ok() && *ca == nullptr) {
    ca = absl::UnavailableError("this agent has no certificate authority configured");
  }
  if (!ca.ok()) {
    metrics_->RecordIssuance(NodeApiMetrics::Issuance::kError);
    return ToGrpcStatus(ca.status());
  }
  absl::Status invalid;
  if (!request->identity().starts_with("spiffe://")) {
    invalid = absl::InvalidArgumentError(absl::StrCat(
        "identity: expected spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>, got \"",
        request->identity(), "\""));
  } else if (request->csr_pem().empty()) {
    invalid = absl::InvalidArgumentError("csr_pem: a PEM certificate request is required");
  } else if (request->ttl_seconds() < 0) {
    invalid = absl::InvalidArgumentError(
        absl::StrCat("ttl_seconds: expected 0 (default) or more, got ", request->ttl_seconds()));
  }
  if (!invalid.ok()) {
    metrics_->RecordIssuance(NodeApiMetrics::Issuance::kRefused);
    log::Warn("certificate refused", {{"identity", request->identity()}, {"error", invalid}});
    return ToGrpcStatus(invalid);
  }

  const absl::Duration ttl = EffectiveTtl(request->ttl_seconds());
  absl::StatusOr<ca::IssuedCertificate> issued =
      (*ca)->Sign(request->csr_pem(), request->identity(), ttl);
  if (!issued.ok()) {
    const absl::StatusCode code = issued.status().code();
    const bool refused =
        code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kPermissionDenied;
    metrics_->RecordIssuance(refused ? NodeApiMetrics::Issuance::kRefused
                                     : NodeApiMetrics::Issuance::kError);
    if (refused) {
      log::Warn("certificate refused",
                {{"identity", request->identity()}, {"error", issued.status()}});
    } else {
      log::Error("certificate issuance failed",
                 {{"identity", request->identity()}, {"error", issued.status()}});
    }
    return ToGrpcStatus(issued.status());
  }
  response->add_cert_chain_pem(issued->cert_chain_pem);
  response->add_trust_bundle_pem(issued->trust_bundle_pem);
  response->set_not_after_unix_seconds(absl::ToUnixSeconds(issued->not_after));
  metrics_->RecordIssuance(NodeApiMetrics::Issuance::kIssued);
  log::Info(
      "certificate issued",
      {{"identity", request->identity()},
       {"not_after", absl::FormatTime(absl::RFC3339_sec, issued->not_after, absl::UTCTimeZone())}});
  return grpc::Status::OK;
}

grpc::Status NodeApiService::GetStatus(grpc::ServerContext* /*context*/,
                                       const weft::nodeapi::v1::StatusRequest* /*request*/,
                                       weft::nodeapi::v1::StatusResponse* response) {
  response->set_node(options_.node);
  if (auto snapshot = options_.store->Current()) response->set_config_version(snapshot->version);
  if (options_.enrolled_workload_uids) {
    for (std::string& uid : options_.enrolled_workload_uids()) {
      response->add_enrolled_workload_uids(std::move(uid));
    }
  }
  return grpc::Status::OK;
}

}  // namespace weft::agent::nodeapi
