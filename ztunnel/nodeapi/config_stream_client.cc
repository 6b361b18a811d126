#include "ztunnel/nodeapi/config_stream_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "ztunnel/nodeapi/grpc_status_conversion.h"

namespace weft::ztunnel {
namespace {

using weft::nodeapi::v1::ConfigAck;
using weft::nodeapi::v1::ConfigUpdate;

// A fresh channel per attempt with its own subchannel pool: gRPC's own reconnect backoff
// (1 s initial, shared process-wide by default) would otherwise override ours.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& socket_path) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(absl::StrCat("unix:", socket_path),
                                   grpc::InsecureChannelCredentials(), args);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConfigStreamClient>> ConfigStreamClient::Create(Options options) {
  if (options.socket_path.empty()) {
    return absl::InvalidArgumentError("config stream client: socket_path is required");
  }
  if (!options.on_update) {
    return absl::InvalidArgumentError("config stream client: on_update is required");
  }
  if (options.initial_backoff <= absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError(
        "config stream client: backoffs must be positive, max at least initial");
  }
  return std::unique_ptr<ConfigStreamClient>(new ConfigStreamClient(std::move(options)));
}

ConfigStreamClient::~ConfigStreamClient() { Stop(); }

void ConfigStreamClient::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void ConfigStreamClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (active_context_ != nullptr) active_context_->TryCancel();
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string ConfigStreamClient::agent_epoch() const {
  std::lock_guard<std::mutex> lock(mu_);
  return agent_epoch_;
}

void ConfigStreamClient::Run() {
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    // A stream that delivered something was healthy: the next failure starts from scratch.
    if (RunOneStream()) backoff = options_.initial_backoff;
    SleepBackoff(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool ConfigStreamClient::RunOneStream() {
  auto channel = NewChannel(options_.socket_path);
  auto stub = weft::nodeapi::v1::NodeApi::NewStub(channel);
  grpc::ClientContext context;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    active_context_ = &context;
  }
  auto stream = stub->StreamConfig(&context);
  bool delivered = false;
  ConfigUpdate update;
  while (stream->Read(&update)) {
    if (!delivered) {
      log::Info("config stream connected", {{"socket", options_.socket_path},
                                            {"agent_epoch", update.agent_epoch()},
                                            {"version", update.version()}});
    }
    delivered = true;
    connected_ = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      agent_epoch_ = update.agent_epoch();
    }
    const std::string error = options_.on_update(update);
    if (error.empty()) last_applied_ = update.version();
    ConfigAck ack;
    ack.set_version(update.version());
    ack.set_error(error);
    if (!stream->Write(ack)) break;
  }
  connected_ = false;
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_context_ = nullptr;
    if (stopping_) return delivered;
  }
  const absl::Status ended = FromGrpcStatus(status, "StreamConfig");
  if (delivered) {
    log::Warn("config stream ended; reconnecting",
              {{"socket", options_.socket_path}, {"status", ended}});
  } else {
    log::Debug("config stream not established",
               {{"socket", options_.socket_path}, {"status", ended}});
  }
  return delivered;
}

void ConfigStreamClient::SleepBackoff(absl::Duration delay) {
  std::unique_lock<std::mutex> lock(mu_);
  stop_cv_.wait_for(lock, absl::ToChronoNanoseconds(delay), [this] { return stopping_; });
}

}  // namespace weft::ztunnel
