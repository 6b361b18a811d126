#include "common/tls/tls_failure_status.h"

#include <openssl/err.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/tls/openssl_error.h"

namespace weft::tls {
namespace {

struct Verdict {
  absl::StatusCode code;
  std::string words;
};

std::string VersionName(int version) {
  switch (version) {
    case SSL3_VERSION:
      return "SSL 3.0";
    case TLS1_VERSION:
      return "TLS 1.0";
    case TLS1_1_VERSION:
      return "TLS 1.1";
    case TLS1_2_VERSION:
      return "TLS 1.2";
    default:
      return absl::StrCat("version 0x", absl::Hex(version));
  }
}

std::string UnsupportedProtocolWords(SSL* ssl) {
  // A server knows what the ClientHello offered; a TLS 1.3 ClientHello would have been accepted,
  // so a legacy version below 1.3 here means the peer offered nothing newer.
  if (SSL_is_server(ssl) == 1 && SSL_client_version(ssl) > 0 &&
      SSL_client_version(ssl) < TLS1_3_VERSION) {
    return absl::StrCat("unsupported protocol (peer offered ", VersionName(SSL_client_version(ssl)),
                        " only; TLS 1.3 is required)");
  }
  return "unsupported protocol (TLS 1.3 is required)";
}

Verdict AlertVerdict(int alert) {
  const std::string words =
      absl::StrCat("peer sent alert \"", SSL_alert_desc_string_long(alert), "\"");
  switch (alert) {
    case SSL_AD_BAD_CERTIFICATE:
    case SSL_AD_UNSUPPORTED_CERTIFICATE:
    case SSL_AD_CERTIFICATE_REVOKED:
    case SSL_AD_CERTIFICATE_EXPIRED:
    case SSL_AD_CERTIFICATE_UNKNOWN:
    case SSL_AD_UNKNOWN_CA:
    case SSL_AD_ACCESS_DENIED:
    case SSL_AD_CERTIFICATE_REQUIRED:
      return {absl::StatusCode::kPermissionDenied,
              absl::StrCat(words, ": it refused our certificate")};
    case SSL_AD_PROTOCOL_VERSION:
    case SSL_AD_HANDSHAKE_FAILURE:
    case SSL_AD_INSUFFICIENT_SECURITY:
    case SSL_AD_NO_APPLICATION_PROTOCOL:
      return {absl::StatusCode::kFailedPrecondition, words};
    case SSL_AD_DECODE_ERROR:
    case SSL_AD_ILLEGAL_PARAMETER:
    case SSL_AD_UNEXPECTED_MESSAGE:
    case SSL_AD_BAD_RECORD_MAC:
    case SSL_AD_RECORD_OVERFLOW:
      return {absl::StatusCode::kInvalidArgument, words};
    default:
      return {absl::StatusCode::kUnavailable, words};
  }
}

Verdict SslLibraryVerdict(SSL* ssl, int reason) {
  if (reason >= SSL_AD_REASON_OFFSET) return AlertVerdict(reason - SSL_AD_REASON_OFFSET);
  switch (reason) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
      return {absl::StatusCode::kPermissionDenied,
              absl::StrCat("certificate verify failed: ",
                           X509_verify_cert_error_string(SSL_get_verify_result(ssl)))};
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return {absl::StatusCode::kPermissionDenied, "peer sent no certificate"};
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_UNSUPPORTED_SSL_VERSION:
      return {absl::StatusCode::kFailedPrecondition, UnsupportedProtocolWords(ssl)};
    case SSL_R_NO_APPLICATION_PROTOCOL:
      return {absl::StatusCode::kFailedPrecondition, "no application protocol (ALPN) in common"};
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SHARED_GROUPS:
      return {absl::StatusCode::kFailedPrecondition,
              "no cipher suite or key-exchange group in common"};
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
      return {absl::StatusCode::kInvalidArgument, "not a TLS record (peer sent plaintext HTTP)"};
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_BAD_RECORD_TYPE:
      return {absl::StatusCode::kInvalidArgument, "not a TLS record"};
    default:
      return {absl::StatusCode::kInvalidArgument, "TLS protocol error"};
  }
}

}  // namespace

absl::Status TlsFailureStatus(SSL* ssl, const PeerVerification& verification) {
  if (!verification.refusal.ok()) {
    // Our own words are more precise than OpenSSL's "certificate verify failed".
    ERR_clear_error();
    return verification.refusal;
  }
  const unsigned long error = ERR_peek_error();
  Verdict verdict{absl::StatusCode::kInternal, "TLS failed inside OpenSSL"};
  if (error != 0 && ERR_GET_LIB(error) == ERR_LIB_SSL) {
    verdict = SslLibraryVerdict(ssl, ERR_GET_REASON(error));
  }
  return OpenSslError(verdict.code, verdict.words);
}

}  // namespace weft::tls
