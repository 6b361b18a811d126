#include "ztunnel/hbone_connection_pool.h"

#include "ztunnel/netns_socket.h"

namespace weft::ztunnel {

absl::StatusOr<int32_t> HboneConnectionPool::OpenStream(const PoolKey& key, const Dial& dial,
                                                        const hbone::ConnectRequest& request,
                                                        std::unique_ptr<StreamLeg> leg) {
  std::vector<std::shared_ptr<HboneClientConnection>>& list = connections_[key];
  for (const auto& conn : list) {
    if (conn->CanOpenStream()) return conn->OpenStream(request, std::move(leg));
  }
  absl::StatusOr<event::ScopedFd> socket = StreamSocketInNetns(
      dial.source_netns_fd, dial.destination.family(), shared_->settings().mark);
  if (!socket.ok()) return socket.status();
  HboneClientConnection::Params params;
  params.loop = loop_;
  params.socket = *std::move(socket);
  params.destination = dial.destination;
  params.tls = dial.client_tls;
  params.expected_identity = key.destination_identity;
  params.session = shared_->settings().session;
  params.connect_timeout = shared_->settings().connect_timeout;
  params.on_closed = [this, key](HboneClientConnection* conn, const absl::Status&) {
    Forget(key, conn);
  };
  absl::StatusOr<std::shared_ptr<HboneClientConnection>> conn =
      HboneClientConnection::Open(std::move(params));
  if (!conn.ok()) return conn.status();
  list.push_back(*conn);
  return (*conn)->OpenStream(request, std::move(leg));
}

void HboneConnectionPool::Forget(const PoolKey& key, HboneClientConnection* conn) {
  auto it = connections_.find(key);
  if (it == connections_.end()) return;
  std::erase_if(it->second, [conn](const auto& c) { return c.get() == conn; });
  if (it->second.empty()) connections_.erase(it);
}

void HboneConnectionPool::ExpireIdle() {
  const auto now = std::chrono::steady_clock::now();
  const auto timeout = shared_->settings().pool_idle_timeout;
  for (auto& [key, list] : connections_) {
    for (const auto& conn : list) {
      if (conn->open_streams() == 0 && now - conn->idle_since() > timeout) conn->Shutdown();
    }
  }
}

void HboneConnectionPool::ShutdownAll() {
  for (auto& [key, list] : connections_) {
    for (const auto& conn : list) conn->Shutdown();
  }
}

size_t HboneConnectionPool::connection_count() const {
  size_t n = 0;
  for (const auto& [key, list] : connections_) n += list.size();
  return n;
}

}  // namespace weft::ztunnel
