#include "common/tls/tls_context.h"

#include <openssl/err.h>

#include "absl/strings/str_cat.h"
#include "common/tls/openssl_error.h"
#include "common/tls/pem_encoding.h"
#include "common/tls/spiffe_certificate.h"

namespace weft::tls {
namespace {

constexpr char kCipherSuites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr char kGroups[] = "X25519:P-256";

absl::StatusOr<std::string> AlpnWireFormat(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& protocol : protocols) {
    if (protocol.empty() || protocol.size() > 255) {
      return absl::InvalidArgumentError(
          absl::StrCat("alpn: protocol names must be 1..255 bytes, got ", protocol.size()));
    }
    wire.push_back(static_cast<char>(protocol.size()));
    wire += protocol;
  }
  return wire;
}

// Server side: a client that offers ALPN must offer one of ours; one that offers none is served
// (the caller sees an empty alpn()).
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
               unsigned int in_length, void* arg) {
  const auto* ours = static_cast<const std::string*>(arg);
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(
          &selected, out_length, reinterpret_cast<const unsigned char*>(ours->data()),
          static_cast<unsigned int>(ours->size()), in, in_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

absl::Status ConfigureProtocol(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kCipherSuites) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kGroups) != 1) {
    return OpenSslInternal("configuring TLS 1.3, cipher suites and groups");
  }
  // No resumption: connections are long-lived and pooled, and a ticket would be one more secret
  // to rotate. In TLS 1.3 SSL_OP_NO_TICKET alone still sends stateful tickets; 0 stops them.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  if (SSL_CTX_set_num_tickets(ctx, 0) != 1) return OpenSslInternal("disabling session tickets");
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // No SSL_MODE_RELEASE_BUFFERS: it frees (and wipes) the record buffers after every
  // read and write, which cost ztunnel's bulk path about 9% of its CPU in OPENSSL_cleanse.
  // HBONE connections are pooled and few (streams share them), so keeping 2 x 17 KiB each
  // is the better trade.
  return absl::OkStatus();
}

absl::Status LoadOwnCertificate(SSL_CTX* ctx, const Credentials& credentials,
                                std::vector<X509Ptr>& chain) {
  absl::StatusOr<EvpPkeyPtr> key = ParsePrivateKeyPem(credentials.private_key_pem);
  if (!key.ok()) return key.status();
  if (SSL_CTX_use_certificate(ctx, chain[0].get()) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "using our leaf certificate");
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) {
      return OpenSslError(absl::StatusCode::kInvalidArgument, "adding an intermediate certificate");
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, key->get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "the private key does not match our leaf certificate");
  }
  return absl::OkStatus();
}

absl::Status LoadTrustBundle(SSL_CTX* ctx, const std::string& bundle_pem) {
  absl::StatusOr<std::vector<X509Ptr>> roots = ParseCertificatesPem(bundle_pem, "trust bundle");
  if (!roots.ok()) return roots.status();
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (X509Ptr& root : *roots) {
    if (X509_STORE_add_cert(store, root.get()) != 1) {
      return OpenSslError(absl::StatusCode::kInvalidArgument, "adding a trust bundle certificate");
    }
  }
  if (X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT) != 1) {
    return OpenSslInternal("enabling strict X.509 verification");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::CreateServer(
    const Credentials& credentials, const TlsOptions& options) {
  return Create(Role::kServer, credentials, options);
}

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::CreateClient(
    const Credentials& credentials, const TlsOptions& options) {
  return Create(Role::kClient, credentials, options);
}

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::Create(Role role,
                                                                     const Credentials& credentials,
                                                                     const TlsOptions& options) {
  if (options.trust_domain.empty()) return absl::InvalidArgumentError("trust_domain is required");
  ERR_clear_error();
  std::shared_ptr<TlsContext> context(new TlsContext());
  context->role_ = role;
  context->trust_domain_ = options.trust_domain;

  absl::StatusOr<std::vector<X509Ptr>> chain =
      ParseCertificatesPem(credentials.cert_chain_pem, "certificate chain");
  if (!chain.ok()) return chain.status();
  X509* leaf = (*chain)[0].get();
  absl::StatusOr<std::string> identity = SpiffeIdOf(leaf);
  if (!identity.ok()) return identity.status();
  if (absl::Status s = CheckTrustDomain(*identity, options.trust_domain); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("our certificate: ", s.message()));
  }
  absl::StatusOr<absl::Time> not_before = NotBefore(leaf);
  if (!not_before.ok()) return not_before.status();
  absl::StatusOr<absl::Time> not_after = NotAfter(leaf);
  if (!not_after.ok()) return not_after.status();
  const absl::Time now = options.clock ? options.clock() : absl::Now();
  if (now < *not_before || now >= *not_after) {
    return absl::FailedPreconditionError(absl::StrCat(
        "our certificate for ", *identity, " is valid from ", absl::FormatTime(*not_before), " to ",
        absl::FormatTime(*not_after), ", not now (", absl::FormatTime(now),
        "); an expired certificate is never presented"));
  }
  context->identity_ = *std::move(identity);
  context->not_before_ = *not_before;
  context->not_after_ = *not_after;

  absl::StatusOr<std::string> alpn_wire = AlpnWireFormat(options.alpn);
  if (!alpn_wire.ok()) return alpn_wire.status();
  context->alpn_wire_ = *std::move(alpn_wire);

  context->ctx_.reset(
      SSL_CTX_new(role == Role::kServer ? TLS_server_method() : TLS_client_method()));
  SSL_CTX* ctx = context->ctx_.get();
  if (ctx == nullptr) return OpenSslInternal("allocating an SSL_CTX");
  if (absl::Status s = ConfigureProtocol(ctx); !s.ok()) return s;
  if (absl::Status s = LoadOwnCertificate(ctx, credentials, *chain); !s.ok()) return s;
  if (absl::Status s = LoadTrustBundle(ctx, credentials.trust_bundle_pem); !s.ok()) return s;

  // The verify callback is installed per SSL (it needs per-connection state); these modes are
  // the defaults it refines.
  if (role == Role::kServer) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    if (!context->alpn_wire_.empty()) {
      SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, &context->alpn_wire_);
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    // Unusually, 0 means success here.
    if (!context->alpn_wire_.empty() &&
        SSL_CTX_set_alpn_protos(ctx,
                                reinterpret_cast<const unsigned char*>(context->alpn_wire_.data()),
                                static_cast<unsigned int>(context->alpn_wire_.size())) != 0) {
      return OpenSslInternal("setting ALPN protocols");
    }
  }
  return std::shared_ptr<const TlsContext>(std::move(context));
}

TlsContext::~TlsContext() = default;

}  // namespace weft::tls
