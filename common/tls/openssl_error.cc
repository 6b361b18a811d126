#include "common/tls/openssl_error.h"

#include <openssl/err.h>

#include "absl/strings/str_cat.h"

namespace weft::tls {

absl::Status OpenSslError(absl::StatusCode code, const std::string& what) {
  std::string reasons;
  while (unsigned long error = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(error, buffer, sizeof(buffer));
    if (!reasons.empty()) reasons += "; ";
    reasons += buffer;
  }
  if (reasons.empty()) reasons = "no OpenSSL error recorded";
  return absl::Status(code, absl::StrCat(what, ": ", reasons));
}

absl::Status OpenSslInternal(const std::string& what) {
  return OpenSslError(absl::StatusCode::kInternal, what);
}

}  // namespace weft::tls
