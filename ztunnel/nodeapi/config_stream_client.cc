#include "ztunnel/nodeapi/config_stream_client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/grpcwire/grpc_channel.h"
#include "common/log/logger.h"

namespace weft::ztunnel {
namespace {

using weft::nodeapi::v1::ConfigAck;
using weft::nodeapi::v1::ConfigUpdate;

constexpr char kStreamConfig[] = "/weft.nodeapi.v1.NodeApi/StreamConfig";
// Connecting to a unix socket completes at once or fails at once; this only bounds the odd case
// of a full accept backlog.
constexpr absl::Duration kConnectTimeout = absl::Seconds(1);

absl::Status InStreamConfig(const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("StreamConfig: ", status.message()));
}

// One update from the stream: the next one, or why the stream ended (OK: the agent closed it).
absl::StatusOr<ConfigUpdate> ReadUpdate(grpcwire::BidiCall& call) {
  absl::StatusOr<std::optional<std::string>> message = call.Read();
  if (!message.ok()) return InStreamConfig(message.status());
  if (!message->has_value()) {
    return absl::UnavailableError("StreamConfig: the agent ended the stream");
  }
  ConfigUpdate update;
  if (!update.ParseFromString(**message)) {
    return absl::InternalError("StreamConfig: the agent sent an unparsable ConfigUpdate");
  }
  return update;
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
    if (active_call_ != nullptr) active_call_->Cancel();
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
  absl::StatusOr<std::unique_ptr<grpcwire::GrpcChannel>> channel =
      grpcwire::GrpcChannel::ConnectUnix(options_.socket_path, kConnectTimeout);
  if (!channel.ok()) {
    log::Debug("config stream not established",
               {{"socket", options_.socket_path}, {"status", InStreamConfig(channel.status())}});
    return false;
  }
  absl::StatusOr<std::unique_ptr<grpcwire::BidiCall>> call = (*channel)->StartBidi(kStreamConfig);
  if (!call.ok()) {
    log::Debug("config stream not established",
               {{"socket", options_.socket_path}, {"status", InStreamConfig(call.status())}});
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    active_call_ = call->get();
  }
  bool delivered = false;
  absl::Status ended;
  while (true) {
    absl::StatusOr<ConfigUpdate> update = ReadUpdate(**call);
    if (!update.ok()) {
      ended = update.status();
      break;
    }
    if (!delivered) {
      log::Info("config stream connected", {{"socket", options_.socket_path},
                                            {"agent_epoch", update->agent_epoch()},
                                            {"version", update->version()}});
    }
    delivered = true;
    connected_ = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      agent_epoch_ = update->agent_epoch();
    }
    const std::string error = options_.on_update(*update);
    if (error.empty()) last_applied_ = update->version();
    ConfigAck ack;
    ack.set_version(update->version());
    ack.set_error(error);
    if (absl::Status written = (*call)->Write(ack.SerializeAsString()); !written.ok()) {
      ended = InStreamConfig(written);
      break;
    }
  }
  connected_ = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_call_ = nullptr;
  }
  // The call goes before its channel; the agent sees the stream reset.
  call->reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return delivered;
  }
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
