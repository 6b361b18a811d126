// Turns the certificate manager's credentials into TLS contexts the workers use: on every
// issuance or rotation it builds that identity's client and server contexts and publishes a
// new CredentialSet (copy-on-write) into the shared state. Connections keep the context
// they started with.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "ztunnel/identity/certificate_manager.h"
#include "ztunnel/shared_state.h"

namespace weft::ztunnel {

class IdentityTlsPublisher {
 public:
  explicit IdentityTlsPublisher(SharedState* shared) : shared_(shared) {}

  // CertificateManager's on_change (its thread).
  void OnCredentials(const std::shared_ptr<const IdentityCredentials>& credentials);
  // Drops identities no longer needed on this node.
  void Retain(const std::set<std::string>& identities);

 private:
  SharedState* shared_;
  std::mutex mu_;  // serialises publishers; readers never take it
};

}  // namespace weft::ztunnel
