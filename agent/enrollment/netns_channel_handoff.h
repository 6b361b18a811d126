// ZtunnelHandoff over the node API's pod-netns channel: each planned pod's netns fd goes to
// ztunnel, and the pod counts as served once ztunnel acknowledges it (its listeners open).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agent/enrollment/ztunnel_handoff.h"
#include "common/admin/metrics_registry.h"
#include "common/nodeapi/netns_channel_server.h"

namespace weft::agent {

class NetnsChannelHandoff : public ZtunnelHandoff {
 public:
  // `on_change` runs (on the channel's thread) after every acknowledgement, so the owner can
  // reconcile at once instead of at its next period.
  static absl::StatusOr<std::unique_ptr<NetnsChannelHandoff>> Create(
      const std::string& socket_path, std::function<void()> on_change,
      admin::MetricsRegistry* metrics);
  ~NetnsChannelHandoff() override;

  HandoffState Offer(const EnrolledWorkload& workload, const PodNetns& netns) override;
  void Withdraw(const std::string& workload_uid) override;

  bool connected() const { return server_->connected(); }

 private:
  struct Offered {
    uint64_t netns_inode = 0;
    HandoffState state;
  };

  NetnsChannelHandoff(std::function<void()> on_change, admin::MetricsRegistry* metrics);
  void OnAck(const nodeapi::NetnsAckEvent& ack);

  std::function<void()> on_change_;
  prometheus::Counter* refused_ = nullptr;
  std::unique_ptr<nodeapi::NetnsChannelServer> server_;
  absl::Mutex mu_;
  std::map<std::string, Offered> offered_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weft::agent
