// ztunnel's end of the pod-netns channel: receives pods (with their netns fds) from the agent,
// lets the owner open or close the pod's listeners, and acknowledges each message.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/event/scoped_fd.h"
#include "common/nodeapi/netns_codec.h"

namespace weft::nodeapi {

// Blocking: Serve() runs on a control thread of the caller's choosing. After a disconnect the
// owner calls Connect() again and receives a full resync (ADDs, then SNAPSHOT_DONE); pods it
// still holds that the resync did not mention are stale and are its to close at SNAPSHOT_DONE.
class NetnsChannelClient {
 public:
  // Called once per valid message, in order. `netns_fd` is valid for ADD only and now belongs
  // to the handler. Returns the ack's error: empty once the pod's listeners are open (ADD) or
  // closed (REMOVE; a REMOVE of an unknown pod is not an error: it may predate a restart).
  // A successful ADD may hand back the pod's plaintext inbound listeners (family, fd), which
  // the agent registers for sk_lookup steering; the fds stay the handler's (they are dup'ed
  // into the ack).
  struct Outcome {
    std::string error;
    std::vector<std::pair<int, int>> listeners;  // (AF_INET|AF_INET6, listening fd)
  };
  using Handler =
      std::function<Outcome(const PodNetnsMessage& message, event::ScopedFd netns_fd)>;

  struct ConnectOptions {
    // The caller's bound on the whole attempt; the agent may start after ztunnel.
    absl::Duration max_wait = absl::Seconds(30);
    absl::Duration initial_backoff = absl::Milliseconds(10);
    absl::Duration max_backoff = absl::Seconds(1);
  };

  // Retries while the agent's socket is missing or refusing, doubling the backoff; returns
  // DeadlineExceeded with the last error once max_wait has passed.
  static absl::StatusOr<std::unique_ptr<NetnsChannelClient>> Connect(const std::string& socket_path,
                                                                     Handler handler,
                                                                     const ConnectOptions& options);
  // Over an already connected socket (tests, socket activation).
  static absl::StatusOr<std::unique_ptr<NetnsChannelClient>> FromSocket(event::ScopedFd socket,
                                                                        Handler handler);

  // Receives, handles and acks messages until the agent closes the connection or Shutdown()
  // is called (both: Unavailable) or a socket error. A bad packet does not end the
  // connection, because SEQPACKET keeps the next packet's boundary intact: one that parsed is
  // answered with an error ack naming the problem; one that did not (no sequence to ack) is
  // dropped. Both are counted in rejected_packets().
  absl::Status Serve();
  // One packet of Serve(). Returns the rejection (InvalidArgument / DataLoss) for a bad one.
  absl::Status ServeOne();
  // Wakes a blocked Serve() from another thread; the connection is dead afterwards.
  void Shutdown();

  uint64_t rejected_packets() const { return rejected_packets_.load(); }
  // The agent said a newer ztunnel took over (Serve returned Aborted): do not reconnect.
  bool superseded() const { return superseded_.load(); }

 private:
  NetnsChannelClient(event::ScopedFd socket, Handler handler)
      : socket_(std::move(socket)), handler_(std::move(handler)) {}

  event::ScopedFd socket_;
  Handler handler_;
  std::atomic<uint64_t> rejected_packets_{0};
  std::atomic<bool> superseded_{false};
};

}  // namespace weft::nodeapi
