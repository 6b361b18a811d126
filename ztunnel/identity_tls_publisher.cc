#include "ztunnel/identity_tls_publisher.h"

#include "common/log/logger.h"
#include "common/tls/tls_context.h"

namespace weft::ztunnel {

void IdentityTlsPublisher::OnCredentials(
    const std::shared_ptr<const IdentityCredentials>& credentials) {
  if (credentials == nullptr) return;
  tls::Credentials c{credentials->cert_chain_pem, credentials->private_key_pem,
                     credentials->trust_bundle_pem};
  tls::TlsOptions options;
  std::shared_ptr<const MeshView> view = shared_->view();
  options.trust_domain = view ? view->trust_domain() : "cluster.local";
  auto client = tls::TlsContext::CreateClient(c, options);
  auto server = tls::TlsContext::CreateServer(c, options);
  if (!client.ok() || !server.ok()) {
    log::Error("issued certificate unusable; keeping the previous one",
               {{"identity", credentials->identity},
                {"error", client.ok() ? server.status() : client.status()}});
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<const CredentialSet> current = shared_->credentials();
  auto next = std::make_shared<CredentialSet>(current ? *current : CredentialSet{});
  (*next)[credentials->identity] = IdentityTls{*client, *server};
  shared_->set_credentials(std::move(next));
  log::Info("certificate in use",
            {{"identity", credentials->identity},
             {"not_after", absl::FormatTime(credentials->not_after)}});
}

void IdentityTlsPublisher::Retain(const std::set<std::string>& identities) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<const CredentialSet> current = shared_->credentials();
  if (current == nullptr) return;
  auto next = std::make_shared<CredentialSet>();
  for (const auto& [identity, tls] : *current) {
    if (identities.count(identity)) next->emplace(identity, tls);
  }
  if (next->size() != current->size()) shared_->set_credentials(std::move(next));
}

}  // namespace weft::ztunnel
