#include "common/grpcwire/call_status.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace weft::grpcwire {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusCode CodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
      return absl::StatusCode::kInternal;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kUnimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kUnknown;
  }
}

}  // namespace

absl::Status StatusFromResponse(const ResponseOutcome& outcome) {
  if (outcome.http_status != 200) {
    return absl::Status(CodeForHttpStatus(outcome.http_status),
                        absl::StrCat("the server answered HTTP status ", outcome.http_status));
  }
  if (!outcome.content_type.empty() && !outcome.content_type.starts_with("application/grpc")) {
    return absl::InternalError(absl::StrCat("the server answered content-type ",
                                            outcome.content_type, ", not application/grpc"));
  }
  if (!outcome.grpc_status.has_value()) {
    return absl::InternalError("the server ended the stream without a grpc-status");
  }
  if (outcome.truncated_message) {
    return absl::InternalError("the server ended the stream in the middle of a message");
  }
  const int code = *outcome.grpc_status;
  if (code == 0) return absl::OkStatus();
  // Codes beyond the canonical range are Unknown, as gRPC itself treats them.
  const absl::StatusCode status_code =
      (code > 0 && code <= 16) ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown;
  return absl::Status(status_code, PercentDecode(outcome.grpc_message));
}

absl::Status StatusFromReset(uint32_t http2_error_code) {
  switch (http2_error_code) {
    case NGHTTP2_REFUSED_STREAM:
      return absl::UnavailableError("the server refused the stream");
    case NGHTTP2_CANCEL:
      return absl::CancelledError("the server cancelled the stream");
    case NGHTTP2_ENHANCE_YOUR_CALM:
      return absl::ResourceExhaustedError("the server reset the stream: enhance your calm");
    case NGHTTP2_INADEQUATE_SECURITY:
      return absl::PermissionDeniedError("the server reset the stream: inadequate security");
    default:
      return absl::InternalError(
          absl::StrCat("the server reset the stream: ", nghttp2_http2_strerror(http2_error_code)));
  }
}

std::string PercentDecode(std::string_view encoded) {
  std::string decoded;
  decoded.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      const int high = HexValue(encoded[i + 1]);
      const int low = HexValue(encoded[i + 2]);
      if (high >= 0 && low >= 0) {
        decoded.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    decoded.push_back(encoded[i]);
  }
  return decoded;
}

std::string GrpcTimeoutValue(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return "1n";
  constexpr int64_t kMaxValue = 99'999'999;  // the header allows eight digits
  const int64_t millis = absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1)));
  if (millis <= kMaxValue) return absl::StrCat(millis, "m");
  const int64_t seconds = absl::ToInt64Seconds(absl::Ceil(timeout, absl::Seconds(1)));
  if (seconds <= kMaxValue) return absl::StrCat(seconds, "S");
  const int64_t hours = absl::ToInt64Hours(absl::Ceil(timeout, absl::Hours(1)));
  return absl::StrCat(std::min(hours, kMaxValue), "H");
}

}  // namespace weft::grpcwire
