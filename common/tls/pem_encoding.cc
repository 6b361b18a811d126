#include "common/tls/pem_encoding.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>

#include "absl/strings/str_cat.h"
#include "common/tls/openssl_error.h"

namespace weft::tls {
namespace {

int RefusePassphrase(char*, int, int, void*) { return 0; }

// BIO_new_mem_buf takes an int length; anything near that is not a credential.
constexpr size_t kMaxPemBytes = 1 << 20;

absl::StatusOr<BioPtr> ReadOnlyBio(const std::string& pem, const std::string& what) {
  if (pem.size() > kMaxPemBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", pem.size(), " bytes; at most ", kMaxPemBytes, " accepted"));
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return OpenSslInternal(absl::StrCat("allocating a buffer for the ", what));
  return bio;
}

}  // namespace

absl::StatusOr<std::vector<X509Ptr>> ParseCertificatesPem(const std::string& pem,
                                                          const std::string& what) {
  ERR_clear_error();
  absl::StatusOr<BioPtr> bio = ReadOnlyBio(pem, what);
  if (!bio.ok()) return bio.status();
  std::vector<X509Ptr> certs;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio->get(), nullptr, RefusePassphrase, nullptr));
    if (cert == nullptr) break;
    certs.push_back(std::move(cert));
  }
  // The loop ends on "no start line" once the input is used up; anything else is a bad block.
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE &&
      !certs.empty()) {
    ERR_clear_error();
  } else if (last != 0 || certs.empty()) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat("parsing the ", what, " (PEM certificates expected)"));
  }
  return certs;
}

absl::StatusOr<X509Ptr> ParseCertificatePem(const std::string& pem, const std::string& what) {
  ERR_clear_error();
  absl::StatusOr<BioPtr> bio = ReadOnlyBio(pem, what);
  if (!bio.ok()) return bio.status();
  X509Ptr cert(PEM_read_bio_X509(bio->get(), nullptr, RefusePassphrase, nullptr));
  if (cert == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat("parsing the ", what, " (a PEM certificate expected)"));
  }
  return cert;
}

absl::StatusOr<EvpPkeyPtr> ParsePrivateKeyPem(const std::string& pem) {
  ERR_clear_error();
  absl::StatusOr<BioPtr> bio = ReadOnlyBio(pem, "private key");
  if (!bio.ok()) return bio.status();
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio->get(), nullptr, RefusePassphrase, nullptr));
  if (key == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "parsing the private key (unencrypted PEM expected)");
  }
  return key;
}

absl::StatusOr<std::string> CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslInternal("PEM-encoding a certificate");
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

absl::StatusOr<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslInternal("PEM-encoding a private key");
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace weft::tls
