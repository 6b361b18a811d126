// A worker's pool of HBONE connections, keyed by (source identity, destination identity,
// destination address): a new stream rides an existing connection with room, else a new
// connection is dialled from the source pod's netns. Connections without streams for
// longer than the idle timeout are closed with a GOAWAY.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "common/event/event_loop.h"
#include "ztunnel/hbone_client_connection.h"
#include "ztunnel/shared_state.h"

namespace weft::ztunnel {

struct PoolKey {
  std::string source_identity;
  std::string destination_identity;
  std::string destination;  // ip:15008
  bool operator<(const PoolKey& o) const {
    return std::tie(source_identity, destination_identity, destination) <
           std::tie(o.source_identity, o.destination_identity, o.destination);
  }
};

class HboneConnectionPool {
 public:
  HboneConnectionPool(event::EventLoop* loop, const SharedState* shared)
      : loop_(loop), shared_(shared) {}

  struct Dial {
    int source_netns_fd = -1;
    std::shared_ptr<const tls::TlsContext> client_tls;
    event::SocketAddress destination;
  };
  // Carries `leg` on a stream toward `key`. The leg is pending until the peer answers.
  absl::StatusOr<int32_t> OpenStream(const PoolKey& key, const Dial& dial,
                                     const hbone::ConnectRequest& request,
                                     std::unique_ptr<StreamLeg> leg);
  // Closes connections idle longer than the configured timeout.
  void ExpireIdle();
  // GOAWAY on every connection (drain).
  void ShutdownAll();
  size_t connection_count() const;

 private:
  void Forget(const PoolKey& key, HboneClientConnection* conn);

  event::EventLoop* loop_;
  const SharedState* shared_;
  std::map<PoolKey, std::vector<std::shared_ptr<HboneClientConnection>>> connections_;
};

}  // namespace weft::ztunnel
