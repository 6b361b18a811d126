// Certificate issuance over the agent's node API (NodeApi.IssueCertificate).
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "weft/nodeapi/v1/node_api.grpc.pb.h"
#include "ztunnel/identity/issued_cert.h"

namespace weft::ztunnel {

class CertificateClient {
 public:
  struct Options {
    std::string socket_path;  // the agent's node API socket
    absl::Duration deadline = absl::Seconds(5);
  };

  static absl::StatusOr<std::unique_ptr<CertificateClient>> Create(Options options);

  // Asks the agent to sign `csr_pem` for `identity`. The agent's refusal keeps its code
  // (PermissionDenied, InvalidArgument, Unavailable, ...); an answer without a parsable leaf is
  // Internal. not_before is read from the leaf (the response carries only not_after).
  absl::StatusOr<IssuedCert> Issue(const std::string& identity, const std::string& csr_pem,
                                   absl::Duration ttl);

 private:
  CertificateClient(Options options, std::shared_ptr<grpc::Channel> channel);

  const Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<weft::nodeapi::v1::NodeApi::Stub> stub_;
};

}  // namespace weft::ztunnel
