#include "common/tls/key_and_csr.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <string_view>

#include "common/tls/openssl_error.h"
#include "common/tls/openssl_handles.h"
#include "common/tls/pem_encoding.h"
#include "common/tls/spiffe_certificate.h"

namespace weft::tls {
namespace {

using X509ExtensionStackPtr =
    std::unique_ptr<STACK_OF(X509_EXTENSION),
                    decltype([](auto* s) { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); })>;

absl::StatusOr<std::string> CsrToPem(X509_REQ* req) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509_REQ(bio.get(), req) != 1) {
    return OpenSslInternal("PEM-encoding the CSR");
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

absl::Status AddUriSanRequest(X509_REQ* req, const std::string& identity) {
  absl::StatusOr<GeneralNamesPtr> names = SingleUriGeneralNames(identity);
  if (!names.ok()) return names.status();
  X509ExtensionStackPtr extensions(sk_X509_EXTENSION_new_null());
  if (extensions == nullptr) return OpenSslInternal("allocating CSR extensions");
  // Critical, as the subject is empty (RFC 5280 4.2.1.6).
  X509_EXTENSION* san = X509V3_EXT_i2d(NID_subject_alt_name, 1, names->get());
  if (san == nullptr || sk_X509_EXTENSION_push(extensions.get(), san) <= 0) {
    X509_EXTENSION_free(san);
    return OpenSslInternal("building the CSR's subjectAltName");
  }
  if (X509_REQ_add_extensions(req, extensions.get()) != 1) {
    return OpenSslInternal("adding the CSR's extensions");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<KeyAndCsr> GenerateKeyAndCsr(const std::string& identity) {
  if (!std::string_view(identity).starts_with("spiffe://")) {
    return absl::InvalidArgumentError("identity must be a spiffe:// ID");
  }
  ERR_clear_error();
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpenSslInternal("generating an ECDSA P-256 key");
  X509ReqPtr req(X509_REQ_new());
  if (req == nullptr || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1) {
    return OpenSslInternal("building the CSR");
  }
  if (absl::Status s = AddUriSanRequest(req.get(), identity); !s.ok()) return s;
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    return OpenSslInternal("signing the CSR");
  }
  absl::StatusOr<std::string> csr_pem = CsrToPem(req.get());
  if (!csr_pem.ok()) return csr_pem.status();
  absl::StatusOr<std::string> key_pem = PrivateKeyToPem(key.get());
  if (!key_pem.ok()) return key_pem.status();
  return KeyAndCsr{*std::move(key_pem), *std::move(csr_pem)};
}

}  // namespace weft::tls
