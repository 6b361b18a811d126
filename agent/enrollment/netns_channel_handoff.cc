#include "agent/enrollment/netns_channel_handoff.h"

#include <fcntl.h>

#include "common/log/logger.h"

namespace weft::agent {

NetnsChannelHandoff::NetnsChannelHandoff(std::function<void()> on_change,
                                         admin::MetricsRegistry* metrics)
    : on_change_(std::move(on_change)) {
  if (metrics != nullptr) {
    if (auto c = metrics->Counter("weft_ztunnel_handoff_refusals_total",
                                  "Pods ztunnel refused to serve when offered (retried)");
        c.ok()) {
      refused_ = *c;
    }
  }
}

absl::StatusOr<std::unique_ptr<NetnsChannelHandoff>> NetnsChannelHandoff::Create(
    const std::string& socket_path, std::function<void()> on_change,
    admin::MetricsRegistry* metrics) {
  std::unique_ptr<NetnsChannelHandoff> handoff(
      new NetnsChannelHandoff(std::move(on_change), metrics));
  NetnsChannelHandoff* self = handoff.get();
  absl::StatusOr<std::unique_ptr<nodeapi::NetnsChannelServer>> server =
      nodeapi::NetnsChannelServer::Create(
          {.socket_path = socket_path,
           .on_ack = [self](const nodeapi::NetnsAckEvent& ack) { self->OnAck(ack); }});
  if (!server.ok()) return server.status();
  handoff->server_ = *std::move(server);
  return handoff;
}

NetnsChannelHandoff::~NetnsChannelHandoff() {
  if (server_ != nullptr) server_->Stop();
}

void NetnsChannelHandoff::OnAck(const nodeapi::NetnsAckEvent& ack) {
  if (ack.kind != nodeapi::PodNetnsMessage::ADD) return;
  {
    absl::MutexLock lock(&mu_);
    auto it = offered_.find(ack.workload_uid);
    if (it == offered_.end()) return;  // withdrawn meanwhile
    if (!ack.error.empty()) {
      // Offer again at the next reconciliation.
      if (refused_) refused_->Increment();
      offered_.erase(it);
      return;
    }
    HandoffState& state = it->second.state;
    state.ready = true;
    state.inbound_listeners = ack.listeners;
    ++state.generation;
  }
  if (on_change_) on_change_();
}

HandoffState NetnsChannelHandoff::Offer(const EnrolledWorkload& workload, const PodNetns& netns) {
  {
    absl::MutexLock lock(&mu_);
    auto it = offered_.find(workload.uid);
    if (it != offered_.end() && it->second.netns_inode == netns.inode) return it->second.state;
    offered_[workload.uid] = Offered{netns.inode, HandoffState{}};
  }
  event::ScopedFd fd(netns.fd ? ::fcntl(*netns.fd, F_DUPFD_CLOEXEC, 0) : -1);
  absl::Status s = fd.valid() ? server_->Add(workload.uid, workload.addresses, std::move(fd))
                              : absl::FailedPreconditionError("no netns fd");
  if (!s.ok()) {
    log::Warn("handing a pod to ztunnel failed; will retry",
              {{"workload", workload.uid}, {"error", s}});
    absl::MutexLock lock(&mu_);
    offered_.erase(workload.uid);
  }
  return HandoffState{};
}

void NetnsChannelHandoff::Withdraw(const std::string& workload_uid) {
  {
    absl::MutexLock lock(&mu_);
    if (offered_.erase(workload_uid) == 0) return;
  }
  server_->Remove(workload_uid);
}

}  // namespace weft::agent
