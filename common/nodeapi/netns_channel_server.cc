#include "common/nodeapi/netns_channel_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/nodeapi/unix_seqpacket_socket.h"

namespace weft::nodeapi {

absl::StatusOr<std::unique_ptr<NetnsChannelServer>> NetnsChannelServer::Create(Options options) {
  if (!options.on_ack)
    return absl::InvalidArgumentError("netns channel server: on_ack is required");
  absl::StatusOr<event::ScopedFd> listen_fd = ListenUnixSeqPacket(options.socket_path);
  if (!listen_fd.ok()) return listen_fd.status();
  event::ScopedFd wake_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd.valid()) {
    int saved = errno;
    ::unlink(options.socket_path.c_str());
    return absl::ErrnoToStatus(saved, "netns channel server: eventfd");
  }
  std::unique_ptr<NetnsChannelServer> server(
      new NetnsChannelServer(std::move(options), *std::move(listen_fd), std::move(wake_fd)));
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

NetnsChannelServer::NetnsChannelServer(Options options, event::ScopedFd listen_fd,
                                       event::ScopedFd wake_fd)
    : options_(std::move(options)),
      listen_fd_(std::move(listen_fd)),
      wake_fd_(std::move(wake_fd)) {}

NetnsChannelServer::~NetnsChannelServer() { Stop(); }

void NetnsChannelServer::Stop() {
  if (stopping_.exchange(true)) return;
  Wake();
  if (thread_.joinable()) thread_.join();
  {
    absl::MutexLock lock(&mu_);
    DropConnectionLocked();
  }
  listen_fd_.Reset();
  ::unlink(options_.socket_path.c_str());
}

bool NetnsChannelServer::connected() const {
  absl::MutexLock lock(&mu_);
  return conn_.valid();
}

absl::Status NetnsChannelServer::Add(const std::string& workload_uid,
                                     std::vector<std::string> addresses, event::ScopedFd netns_fd) {
  if (workload_uid.empty()) {
    return absl::InvalidArgumentError("netns channel server: Add needs a workload uid");
  }
  if (absl::Status s = CheckIsNetnsFd(netns_fd.get()); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("netns channel server: Add ", workload_uid, ": ", s.message()));
  }
  // Dup outside the lock and before changing state, so a failure leaves nothing half done.
  event::ScopedFd to_send(::fcntl(netns_fd.get(), F_DUPFD_CLOEXEC, 0));
  if (!to_send.valid()) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("netns channel server: dup netns fd of ", workload_uid));
  }
  {
    absl::MutexLock lock(&mu_);
    unacked_removes_.erase(workload_uid);
    if (conn_.valid())
      EnqueueLocked(PodNetnsMessage::ADD, workload_uid, addresses, std::move(to_send));
    pods_[workload_uid] = Pod{std::move(addresses), std::move(netns_fd)};
  }
  Wake();
  return absl::OkStatus();
}

void NetnsChannelServer::Remove(const std::string& workload_uid) {
  {
    absl::MutexLock lock(&mu_);
    pods_.erase(workload_uid);
    if (conn_.valid()) {
      EnqueueLocked(PodNetnsMessage::REMOVE, workload_uid, {}, event::ScopedFd());
    } else {
      unacked_removes_.insert(workload_uid);
    }
  }
  Wake();
}

void NetnsChannelServer::Wake() {
  uint64_t one = 1;
  // EAGAIN only when the counter is saturated, which still wakes the thread.
  [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
}

void NetnsChannelServer::EnqueueLocked(PodNetnsMessage::Kind kind, const std::string& uid,
                                       const std::vector<std::string>& addresses,
                                       event::ScopedFd netns_fd) {
  Outgoing out;
  out.message.set_sequence(next_sequence_++);
  out.message.set_kind(kind);
  out.message.set_workload_uid(uid);
  for (const std::string& a : addresses) out.message.add_addresses(a);
  out.netns_fd = std::move(netns_fd);
  pending_[out.message.sequence()] = Pending{uid, kind};
  outbox_.push_back(std::move(out));
}

void NetnsChannelServer::EnqueueResyncLocked() {
  for (const auto& [uid, pod] : pods_) {
    event::ScopedFd dup(::fcntl(pod.netns_fd.get(), F_DUPFD_CLOEXEC, 0));
    if (!dup.valid()) {
      // The pod stays unacked, so the owner never starts capture for it; the next
      // reconnection retries.
      log::Error("netns channel server: dup netns fd for resync failed",
                 {{"workload_uid", uid}, {"errno", errno}});
      continue;
    }
    EnqueueLocked(PodNetnsMessage::ADD, uid, pod.addresses, std::move(dup));
  }
  for (const std::string& uid : unacked_removes_) {
    EnqueueLocked(PodNetnsMessage::REMOVE, uid, {}, event::ScopedFd());
  }
  unacked_removes_.clear();
  EnqueueLocked(PodNetnsMessage::SNAPSHOT_DONE, "", {}, event::ScopedFd());
}

void NetnsChannelServer::DropConnectionLocked() {
  if (!conn_.valid()) return;
  conn_.Reset();
  outbox_.clear();
  // An unacked ADD is resent because the pod is still in pods_; an unacked REMOVE has to be
  // remembered, or its ack would never reach the owner.
  for (const auto& [sequence, pending] : pending_) {
    if (pending.kind == PodNetnsMessage::REMOVE && !pods_.contains(pending.workload_uid)) {
      unacked_removes_.insert(pending.workload_uid);
    }
  }
  pending_.clear();
}

void NetnsChannelServer::Run() {
  while (!stopping_.load()) {
    std::vector<pollfd> fds = {{wake_fd_.get(), POLLIN, 0}, {listen_fd_.get(), POLLIN, 0}, {-1, 0, 0}};
    {
      absl::MutexLock lock(&mu_);
      if (conn_.valid()) {
        fds[2] = {conn_.get(), static_cast<short>(POLLIN | (outbox_.empty() ? 0 : POLLOUT)), 0};
      }
    }
    for (const Retiring& r : retiring_) fds.push_back({r.fd.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), retiring_.empty() ? -1 : 1000) < 0) {
      if (errno == EINTR) continue;
      log::Error("netns channel server: poll failed", {{"errno", errno}});
      return;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_.get(), &count, sizeof(count));
    }
    if (stopping_.load()) return;
    if (fds[1].revents & POLLIN) {
      AcceptConnection();
      continue;  // fds[2] may name the connection just replaced
    }
    if (fds[2].fd >= 0 && fds[2].revents != 0) {
      ReadAcks();
    }
    ServeRetiring();
    FlushOutbox();
  }
}

void NetnsChannelServer::ServeRetiring() {
  const absl::Time now = absl::Now();
  std::erase_if(retiring_, [now](Retiring& r) {
    while (true) {
      absl::StatusOr<SeqPacket> packet = ReceiveSeqPacket(r.fd.get(), MSG_DONTWAIT);
      if (absl::IsResourceExhausted(packet.status())) break;  // nothing more queued
      if (!packet.ok() && !absl::IsDataLoss(packet.status())) return true;  // it closed
    }
    return now - r.since > absl::Seconds(5);
  });
}

void NetnsChannelServer::AcceptConnection() {
  event::ScopedFd conn(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn.valid()) {
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
      log::Warn("netns channel server: accept failed", {{"errno", errno}});
      // EMFILE and the like leave the listener readable; pause rather than spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return;
  }
  bool replaced;
  {
    absl::MutexLock lock(&mu_);
    replaced = conn_.valid();
    if (replaced) {
      // The old ztunnel reads SUPERSEDED, then EOF, and stops reconnecting. Its connection
      // is kept (its late acks discarded) until it hangs up: closing a unix socket with
      // unread data would reset it before it read the message. Best effort: a ztunnel
      // that misses it reconnects once and is superseded again.
      PodNetnsMessage superseded;
      superseded.set_sequence(next_sequence_++);
      superseded.set_kind(PodNetnsMessage::SUPERSEDED);
      (void)SendNetnsMessage(conn_.get(), superseded, -1, MSG_DONTWAIT);
      ::shutdown(conn_.get(), SHUT_WR);
      // A duplicate keeps the socket open past DropConnectionLocked's close.
      retiring_.push_back(
          Retiring{event::ScopedFd(::fcntl(conn_.get(), F_DUPFD_CLOEXEC, 0)), absl::Now()});
    }
    DropConnectionLocked();
    conn_ = std::move(conn);
    EnqueueResyncLocked();
  }
  connections_accepted_.fetch_add(1);
  log::Info("netns channel server: ztunnel connected, resynchronising",
            {{"path", options_.socket_path}, {"replaced_previous", replaced}});
  FlushOutbox();
}

void NetnsChannelServer::ReadAcks() {
  int conn;
  {
    absl::MutexLock lock(&mu_);
    conn = conn_.get();
  }
  if (conn < 0) return;
  while (true) {
    absl::StatusOr<SeqPacket> packet = ReceiveSeqPacket(conn, MSG_DONTWAIT);
    if (absl::IsResourceExhausted(packet.status())) return;
    if (absl::IsDataLoss(packet.status())) {
      rejected_acks_.fetch_add(1);
      log::Warn("netns channel server: rejected ack", {{"error", packet.status()}});
      continue;
    }
    if (!packet.ok()) {
      log::Info("netns channel server: ztunnel connection closed", {{"why", packet.status()}});
      absl::MutexLock lock(&mu_);
      DropConnectionLocked();
      return;
    }
    absl::StatusOr<ReceivedNetnsAck> ack = DecodeNetnsAck(*std::move(packet));
    if (!ack.ok()) {
      rejected_acks_.fetch_add(1);
      log::Warn("netns channel server: rejected ack", {{"error", ack.status()}});
      continue;
    }
    NetnsAckEvent event;
    {
      absl::MutexLock lock(&mu_);
      auto it = pending_.find(ack->ack.sequence());
      if (it == pending_.end()) {
        event.sequence = 0;
      } else {
        event.workload_uid = std::move(it->second.workload_uid);
        event.kind = it->second.kind;
        event.sequence = it->first;
        event.error = ack->ack.error();
        if (event.kind == PodNetnsMessage::ADD) event.listeners = std::move(ack->listeners);
        pending_.erase(it);
      }
    }
    if (event.sequence == 0) {
      rejected_acks_.fetch_add(1);
      log::Warn("netns channel server: ack for unknown sequence",
                {{"sequence", static_cast<unsigned long long>(ack->ack.sequence())}});
      continue;
    }
    if (!event.error.empty()) {
      log::Warn("netns channel server: ztunnel refused a message",
                {{"workload_uid", event.workload_uid},
                 {"kind", PodNetnsMessage::Kind_Name(event.kind)},
                 {"error", event.error}});
    }
    // Outside the lock: the owner may call Add/Remove from its callback.
    options_.on_ack(event);
  }
}

void NetnsChannelServer::FlushOutbox() {
  absl::MutexLock lock(&mu_);
  while (conn_.valid() && !outbox_.empty()) {
    Outgoing& out = outbox_.front();
    absl::Status s = SendNetnsMessage(conn_.get(), out.message, out.netns_fd.get(), MSG_DONTWAIT);
    if (absl::IsResourceExhausted(s)) return;  // POLLOUT resumes
    if (!s.ok()) {
      log::Info("netns channel server: send failed, dropping connection", {{"error", s}});
      DropConnectionLocked();
      return;
    }
    outbox_.pop_front();
  }
}

}  // namespace weft::nodeapi
