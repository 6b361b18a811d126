// What every worker reads and nobody on the data path writes: the current mesh view, the
// TLS contexts of the node's identities, and process-wide settings. Snapshots are swapped
// atomically (readers never lock); a worker takes one snapshot per connection.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

#include "common/event/scoped_fd.h"
#include "common/hbone/session_options.h"
#include "common/tls/tls_context.h"
#include "ztunnel/connection_telemetry.h"
#include "ztunnel/mesh_view.h"

namespace weft::ztunnel {

// One enrolled pod as the agent handed it over. Immutable; shared by the workers.
struct PodContext {
  std::string uid;
  std::vector<std::string> addresses;
  std::shared_ptr<event::ScopedFd> netns;
  uint64_t netns_inode = 0;
};

// Client and server TLS contexts per SPIFFE identity, rebuilt whenever a certificate is
// issued or rotated. Connections keep the context they started with, so a rotation never
// touches an established connection.
struct IdentityTls {
  std::shared_ptr<const tls::TlsContext> client;
  std::shared_ptr<const tls::TlsContext> server;
};
using CredentialSet = std::map<std::string, IdentityTls>;

struct DataPlaneSettings {
  uint32_t mark = 1337;  // SO_MARK on ztunnel's own sockets: the capture lets them pass
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds pool_idle_timeout{60000};
  hbone::SessionOptions session;
};

class SharedState {
 public:
  SharedState(DataPlaneSettings settings, ConnectionTelemetry* telemetry)
      : settings_(std::move(settings)), telemetry_(telemetry) {}

  std::shared_ptr<const MeshView> view() const { return view_.load(); }
  void set_view(std::shared_ptr<const MeshView> view);

  std::shared_ptr<const CredentialSet> credentials() const { return credentials_.load(); }
  void set_credentials(std::shared_ptr<const CredentialSet> set);
  // The contexts for `identity`, or nullptr when ztunnel holds no valid certificate for it.
  IdentityTls TlsFor(const std::string& identity) const;

  // OK once ztunnel can serve pod `uid`: its config has the workload in the mesh and its
  // identity has a valid certificate. Otherwise says what is missing.
  absl::Status Servable(const std::string& uid) const;
  // Waits up to `timeout` for Servable(uid), re-checking on every view or credential change;
  // returns its last answer. Never called on a worker (it blocks).
  absl::Status AwaitServable(const std::string& uid, absl::Duration timeout) const;

  const DataPlaneSettings& settings() const { return settings_; }
  ConnectionTelemetry* telemetry() const { return telemetry_; }

 private:
  const DataPlaneSettings settings_;
  ConnectionTelemetry* const telemetry_;
  std::atomic<std::shared_ptr<const MeshView>> view_;
  std::atomic<std::shared_ptr<const CredentialSet>> credentials_;
  // Wakes AwaitServable; readers on the data path never touch it.
  mutable std::mutex change_mu_;
  mutable std::condition_variable changed_;
  uint64_t changes_ = 0;
};

}  // namespace weft::ztunnel
