#include "common/tls/spiffe_certificate.h"

#include <openssl/err.h>

#include <ctime>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/tls/openssl_error.h"
#include "common/tls/pem_encoding.h"

namespace weft::tls {
namespace {

constexpr char kSpiffeScheme[] = "spiffe://";
constexpr size_t kSpiffeSchemeLength = sizeof(kSpiffeScheme) - 1;

absl::StatusOr<absl::Time> AsTime(const ASN1_TIME* time, const char* what) {
  struct tm tm = {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat("reading a certificate's ", what));
  }
  return absl::FromTimeT(timegm(&tm));
}

}  // namespace

std::vector<std::string> UriSans(X509* cert) {
  std::vector<std::string> uris;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (names == nullptr) return uris;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  return uris;
}

absl::StatusOr<GeneralNamesPtr> SingleUriGeneralNames(const std::string& uri) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* value = ASN1_IA5STRING_new();
  if (names == nullptr || name == nullptr || value == nullptr ||
      ASN1_STRING_set(value, uri.data(), static_cast<int>(uri.size())) != 1) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(value);
    return OpenSslInternal("building subjectAltName");
  }
  GENERAL_NAME_set0_value(name, GEN_URI, value);  // `name` now owns `value`.
  if (sk_GENERAL_NAME_push(names.get(), name) <= 0) {
    GENERAL_NAME_free(name);
    return OpenSslInternal("building subjectAltName");
  }
  return names;
}

absl::StatusOr<absl::Time> NotBefore(const X509* cert) {
  return AsTime(X509_get0_notBefore(cert), "notBefore");
}

absl::StatusOr<absl::Time> NotAfter(const X509* cert) {
  return AsTime(X509_get0_notAfter(cert), "notAfter");
}

absl::StatusOr<std::string> SpiffeIdOf(X509* cert) {
  std::vector<std::string> uris = UriSans(cert);
  if (uris.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate has ", uris.size(), " URI SANs; exactly one spiffe:// ID is required"));
  }
  std::string_view uri = uris[0];
  const size_t domain_end = uri.find('/', kSpiffeSchemeLength);
  if (!uri.starts_with(kSpiffeScheme) || domain_end == std::string_view::npos ||
      domain_end == kSpiffeSchemeLength || domain_end + 1 == uri.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate URI SAN \"", uris[0], "\" is not a spiffe://<trust-domain>/<path> ID"));
  }
  return std::move(uris[0]);
}

absl::Status CheckTrustDomain(const std::string& spiffe_id, const std::string& trust_domain) {
  const std::string prefix = absl::StrCat(kSpiffeScheme, trust_domain, "/");
  if (trust_domain.empty() || !std::string_view(spiffe_id).starts_with(prefix)) {
    return absl::PermissionDeniedError(
        absl::StrCat("identity ", spiffe_id, " is not in trust domain \"", trust_domain, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> IdentityOfCertificate(const std::string& cert_pem) {
  absl::StatusOr<X509Ptr> cert = ParseCertificatePem(cert_pem, "certificate");
  if (!cert.ok()) return cert.status();
  return SpiffeIdOf(cert->get());
}

absl::StatusOr<absl::Time> NotAfterOfCertificate(const std::string& cert_pem) {
  absl::StatusOr<X509Ptr> cert = ParseCertificatePem(cert_pem, "certificate");
  if (!cert.ok()) return cert.status();
  return NotAfter(cert->get());
}

}  // namespace weft::tls
