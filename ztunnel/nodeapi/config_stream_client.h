// ztunnel's config feed: one StreamConfig call to the agent, kept open by a background thread
// that reconnects with backoff whenever the stream breaks (agent restart, socket missing) and
// then resynchronises from the full snapshot the agent sends first. Spoken with common/grpcwire
// (no libgrpc in ztunnel); each attempt is a fresh connection, so only our backoff applies.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "weft/nodeapi/v1/node_api.pb.h"

namespace weft::grpcwire {
class BidiCall;
}  // namespace weft::grpcwire

namespace weft::ztunnel {

class ConfigStreamClient {
 public:
  struct Options {
    std::string socket_path;  // the agent's node API socket
    // Applies one version; returns "" when applied, otherwise why not (sent back as the ack's
    // error; the agent logs and counts it). Called on the client's thread, one at a time.
    std::function<std::string(const weft::nodeapi::v1::ConfigUpdate&)> on_update;
    absl::Duration initial_backoff = absl::Milliseconds(50);
    absl::Duration max_backoff = absl::Seconds(2);
  };

  static absl::StatusOr<std::unique_ptr<ConfigStreamClient>> Create(Options options);
  ~ConfigStreamClient();

  // Starts the background thread (once).
  void Start();
  // Ends the stream and the thread; returns within about a second unless on_update is slow.
  void Stop();

  // True while a stream is open and has delivered at least one update.
  bool connected() const { return connected_.load(); }
  // Version of the last update on_update applied (0: none yet).
  uint64_t last_applied_version() const { return last_applied_.load(); }
  // The agent_epoch of the last update (changes when the agent restarts).
  std::string agent_epoch() const;

 private:
  explicit ConfigStreamClient(Options options) : options_(std::move(options)) {}
  void Run();
  // One stream from connect to its end; true when at least one update came through.
  bool RunOneStream();
  void SleepBackoff(absl::Duration delay);

  const Options options_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;                      // guarded by mu_
  grpcwire::BidiCall* active_call_ = nullptr;  // guarded by mu_; cancelled by Stop()
  std::string agent_epoch_;                    // guarded by mu_
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> last_applied_{0};
};

}  // namespace weft::ztunnel
