#include "agent/ca/csr_verification.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/tls/openssl_error.h"

namespace weft::ca {
namespace {

// A P-256 CSR is under 1 KiB; the bound keeps the parser away from hostile sizes.
constexpr size_t kMaxCsrBytes = 16 * 1024;

int RefusePassphrase(char*, int, int, void*) { return 0; }

}  // namespace

absl::StatusOr<tls::EvpPkeyPtr> VerifiedCsrPublicKey(const std::string& csr_pem) {
  if (csr_pem.size() > kMaxCsrBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR is ", csr_pem.size(), " bytes; at most ", kMaxCsrBytes, " accepted"));
  }
  ERR_clear_error();
  tls::BioPtr bio(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  if (bio == nullptr) return tls::OpenSslInternal("allocating a buffer for the CSR");
  tls::X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, RefusePassphrase, nullptr));
  if (req == nullptr) {
    return tls::OpenSslError(absl::StatusCode::kInvalidArgument, "parsing the PEM CSR");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr) {
    return tls::OpenSslError(absl::StatusCode::kInvalidArgument, "reading the CSR's public key");
  }
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CSR key is ", OBJ_nid2sn(EVP_PKEY_get_base_id(key)), "; an ECDSA P-256 key is required"));
  }
  char group[64] = {0};
  size_t group_length = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof(group), &group_length) != 1) {
    return tls::OpenSslError(absl::StatusCode::kInvalidArgument, "reading the CSR key's curve");
  }
  if (std::strcmp(group, SN_X9_62_prime256v1) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CSR key is on curve ", group, "; an ECDSA P-256 (prime256v1) key is required"));
  }
  if (X509_REQ_verify(req.get(), key) != 1) {
    return tls::OpenSslError(absl::StatusCode::kInvalidArgument,
                             "verifying the CSR signature (it must be signed by its own key)");
  }
  if (EVP_PKEY_up_ref(key) != 1) return tls::OpenSslInternal("referencing the CSR key");
  return tls::EvpPkeyPtr(key);
}

}  // namespace weft::ca
