#include "common/tls/peer_verification.h"

#include "absl/strings/str_cat.h"
#include "common/tls/spiffe_certificate.h"

namespace weft::tls {
namespace {

// Rejecting here (rather than after the handshake) makes OpenSSL send the peer an alert, so both
// ends log why the connection was refused. CERT_REJECTED becomes a bad_certificate alert;
// APPLICATION_VERIFICATION would become handshake_failure, which tells the peer nothing.
int Refuse(X509_STORE_CTX* store, PeerVerification* state, absl::Status refusal) {
  state->refusal = std::move(refusal);
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

int VerifySpiffeLeaf(int preverify_ok, X509_STORE_CTX* store) {
  // OpenSSL's own verdict (chain, signatures, validity) stands; its reason is in the store.
  if (preverify_ok != 1) return 0;
  // The callback runs for every certificate of the chain, root first; only the leaf names a peer.
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  SSL* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* state = static_cast<PeerVerification*>(SSL_get_app_data(ssl));
  if (state == nullptr) return 0;  // Not installed by us: refuse rather than guess.

  absl::StatusOr<std::string> identity = SpiffeIdOf(X509_STORE_CTX_get_current_cert(store));
  if (!identity.ok()) {
    return Refuse(store, state,
                  absl::PermissionDeniedError(absl::StrCat("peer ", identity.status().message())));
  }
  if (absl::Status s = CheckTrustDomain(*identity, state->trust_domain); !s.ok()) {
    return Refuse(store, state, absl::PermissionDeniedError(absl::StrCat("peer ", s.message())));
  }
  if (!state->expected_identity.empty() && *identity != state->expected_identity) {
    return Refuse(
        store, state,
        absl::PermissionDeniedError(absl::StrCat(
            "peer identity ", *identity, " does not match expected ", state->expected_identity)));
  }
  absl::StatusOr<absl::Time> not_after = NotAfter(X509_STORE_CTX_get_current_cert(store));
  if (!not_after.ok()) {
    return Refuse(store, state,
                  absl::PermissionDeniedError("peer certificate notAfter unreadable"));
  }
  state->verified_identity = *std::move(identity);
  state->verified_not_after = *not_after;
  return 1;
}

}  // namespace

void InstallPeerVerification(SSL* ssl, bool require_certificate, PeerVerification* state) {
  SSL_set_app_data(ssl, state);
  int mode = SSL_VERIFY_PEER;
  if (require_certificate) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_set_verify(ssl, mode, VerifySpiffeLeaf);
}

}  // namespace weft::tls
