#include "ztunnel/shared_state.h"

#include "absl/time/clock.h"

namespace weft::ztunnel {

IdentityTls SharedState::TlsFor(const std::string& identity) const {
  std::shared_ptr<const CredentialSet> set = credentials_.load();
  if (set == nullptr) return {};
  auto it = set->find(identity);
  if (it == set->end()) return {};
  // Never present an expired certificate, even if its renewal is late.
  if (it->second.client == nullptr || it->second.client->not_after() <= absl::Now()) return {};
  return it->second;
}

}  // namespace weft::ztunnel
