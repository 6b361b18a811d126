// A real grpc++ NodeApi server on a unix socket whose answers are scripted by the request, for
// testing grpcwire against the implementation the agent uses; and a "server" that writes junk.
#pragma once

#include <grpcpp/server.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "weft/nodeapi/v1/node_api.grpc.pb.h"

namespace weft::grpcwire_testing {

inline constexpr char kIssueCertificate[] = "/weft.nodeapi.v1.NodeApi/IssueCertificate";
inline constexpr char kStreamConfig[] = "/weft.nodeapi.v1.NodeApi/StreamConfig";

// IssueCertificate by identity: "deny" → PERMISSION_DENIED with kDenyMessage; "slow" → waits
// until the client gives up; "big:<n>" → a chain entry of n bytes; else "chain for <identity>
// ttl <ttl>". StreamConfig: three updates (versions 1..3) at once, then one update (version
// ack+100) per ack; an ack with error "fail" ends the stream with ABORTED "told to fail"; the
// client's half-close ends it with OK.
class ScriptedNodeApi final : public weft::nodeapi::v1::NodeApi::Service {
 public:
  static constexpr char kDenyMessage[] = "no pod for sa/cart on node-a: 100% sure \u2713";

  grpc::Status IssueCertificate(grpc::ServerContext* context,
                                const weft::nodeapi::v1::CertificateRequest* request,
                                weft::nodeapi::v1::CertificateResponse* response) override;
  grpc::Status StreamConfig(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<weft::nodeapi::v1::ConfigUpdate, weft::nodeapi::v1::ConfigAck>*
          stream) override;

  std::vector<uint64_t> acked_versions() const;
  int cancelled_calls() const { return cancelled_calls_.load(); }
  int ended_streams() const { return ended_streams_.load(); }

 private:
  mutable std::mutex mu_;
  std::vector<uint64_t> acked_versions_;  // guarded by mu_
  std::atomic<int> cancelled_calls_{0};
  std::atomic<int> ended_streams_{0};
};

// A temporary directory holding the socket, and the server listening on it.
class ScriptedServer {
 public:
  ScriptedServer();
  ~ScriptedServer();
  const std::string& socket_path() const { return socket_path_; }
  ScriptedNodeApi& service() { return service_; }
  // Stops at once, cancelling open calls.
  void Shutdown();

 private:
  std::string dir_;
  std::string socket_path_;
  ScriptedNodeApi service_;
  std::unique_ptr<grpc::Server> server_;
};

// Accepts connections on a unix socket and answers each with `reply` (and then silence,
// keeping the connection open, until destroyed).
class JunkServer {
 public:
  explicit JunkServer(std::string reply);
  ~JunkServer();
  const std::string& socket_path() const { return socket_path_; }

 private:
  std::string dir_;
  std::string socket_path_;
  std::string reply_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::vector<int> accepted_;
  std::thread thread_;
};

// Polls `condition` every millisecond for up to five seconds.
bool WaitUntil(const std::function<bool()>& condition);

}  // namespace weft::grpcwire_testing
