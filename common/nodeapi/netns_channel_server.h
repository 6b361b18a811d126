// The agent's end of the pod-netns channel: listens on a unix SOCK_SEQPACKET path, serves one
// ztunnel at a time, and keeps that ztunnel in step with the set of pods handed off.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/event/scoped_fd.h"
#include "common/nodeapi/netns_codec.h"

namespace weft::nodeapi {

// ztunnel's answer to one message, with what the message was about.
struct NetnsAckEvent {
  std::string workload_uid;  // empty for SNAPSHOT_DONE
  PodNetnsMessage::Kind kind = PodNetnsMessage::KIND_UNSPECIFIED;
  uint64_t sequence = 0;
  std::string error;  // empty = listeners open (ADD) / closed (REMOVE)
  // ADD only: ztunnel's plaintext inbound listeners, for sk_lookup registration.
  std::vector<InboundListenerFd> listeners;
};

// The server owns the desired state (which pods are handed off, with a netns fd each). On every
// ztunnel (re)connection it sends an ADD per pod, a REMOVE per removal that was never acked,
// then SNAPSHOT_DONE; after that, Add/Remove are sent as they happen. A newer connection
// replaces the current one (a restarted ztunnel), and whatever was unacked on the old one is
// covered by the new resync. Every ack reaches `on_ack`, on the server's thread; the owner
// starts capturing a pod only after a successful ADD ack. Sends are non-blocking and
// poll-driven, so a ztunnel slow to read acks never stalls the agent's callers.
class NetnsChannelServer {
 public:
  struct Options {
    std::string socket_path;
    // Runs on the server thread; may call Add/Remove, must not call Stop().
    std::function<void(const NetnsAckEvent&)> on_ack;
  };

  // Binds `socket_path` (replacing a stale socket file, refusing any other file), mode 0600,
  // and starts the server thread.
  static absl::StatusOr<std::unique_ptr<NetnsChannelServer>> Create(Options options);
  ~NetnsChannelServer();
  NetnsChannelServer(const NetnsChannelServer&) = delete;
  NetnsChannelServer& operator=(const NetnsChannelServer&) = delete;

  // Hands the pod off (replacing an earlier Add of the same uid); the server keeps `netns_fd`
  // for resyncs. Sent at once when ztunnel is connected, else at its next connection.
  absl::Status Add(const std::string& workload_uid, std::vector<std::string> addresses,
                   event::ScopedFd netns_fd);
  // Withdraws the pod; ztunnel answers once its listeners are closed.
  void Remove(const std::string& workload_uid);

  // Closes the connection and the listener and joins the thread. Idempotent.
  void Stop();

  bool connected() const;
  uint64_t connections_accepted() const { return connections_accepted_.load(); }
  // Acks that were unparsable, carried fds, or named an unknown sequence.
  uint64_t rejected_acks() const { return rejected_acks_.load(); }

 private:
  struct Pod {
    std::vector<std::string> addresses;
    event::ScopedFd netns_fd;
  };
  struct Outgoing {
    PodNetnsMessage message;
    event::ScopedFd netns_fd;  // a dup, so a Remove while queued cannot close it under us
  };
  struct Pending {
    std::string workload_uid;
    PodNetnsMessage::Kind kind;
  };

  NetnsChannelServer(Options options, event::ScopedFd listen_fd, event::ScopedFd wake_fd);
  void Run();
  void Wake();
  void AcceptConnection();
  void ReadAcks();
  // Replaced connections, drained until their ztunnel hangs up (server thread only).
  void ServeRetiring();
  void FlushOutbox();
  void DropConnectionLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnqueueResyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnqueueLocked(PodNetnsMessage::Kind kind, const std::string& uid,
                     const std::vector<std::string>& addresses, event::ScopedFd netns_fd)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  event::ScopedFd listen_fd_;
  event::ScopedFd wake_fd_;  // eventfd: Stop() and new outgoing messages
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> connections_accepted_{0};
  std::atomic<uint64_t> rejected_acks_{0};
  struct Retiring {
    event::ScopedFd fd;
    absl::Time since;
  };
  std::vector<Retiring> retiring_;  // server thread only

  mutable absl::Mutex mu_;
  // Only the server thread replaces or closes conn_ (so poll never sees a reused fd number);
  // other threads only send through queues.
  event::ScopedFd conn_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Pod> pods_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> unacked_removes_ ABSL_GUARDED_BY(mu_);
  std::deque<Outgoing> outbox_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Pending> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace weft::nodeapi
