// What every worker reads and nobody on the data path writes: the current mesh view, the
// TLS contexts of the node's identities, and process-wide settings. Snapshots are swapped
// atomically (readers never lock); a worker takes one snapshot per connection.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

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
  void set_view(std::shared_ptr<const MeshView> view) { view_.store(std::move(view)); }

  std::shared_ptr<const CredentialSet> credentials() const { return credentials_.load(); }
  void set_credentials(std::shared_ptr<const CredentialSet> set) {
    credentials_.store(std::move(set));
  }
  // The contexts for `identity`, or nullptr when ztunnel holds no valid certificate for it.
  IdentityTls TlsFor(const std::string& identity) const;

  const DataPlaneSettings& settings() const { return settings_; }
  ConnectionTelemetry* telemetry() const { return telemetry_; }

 private:
  const DataPlaneSettings settings_;
  ConnectionTelemetry* const telemetry_;
  std::atomic<std::shared_ptr<const MeshView>> view_;
  std::atomic<std::shared_ptr<const CredentialSet>> credentials_;
};

}  // namespace weft::ztunnel
