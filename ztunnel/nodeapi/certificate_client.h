// Certificate issuance over the agent's node API (NodeApi.IssueCertificate), spoken with
// common/grpcwire: one short connection per issuance (a few per hour), so an agent restart
// between two calls needs no reconnect logic.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
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
  // Internal. not_before is read from the leaf (the response carries only not_after). An absent
  // or restarting agent is waited for within the deadline (then DeadlineExceeded).
  absl::StatusOr<IssuedCert> Issue(const std::string& identity, const std::string& csr_pem,
                                   absl::Duration ttl);

 private:
  explicit CertificateClient(Options options) : options_(std::move(options)) {}

  const Options options_;
};

}  // namespace weft::ztunnel
