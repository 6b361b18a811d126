// What a gRPC response's headers and trailers mean as an absl::Status, and the request's
// grpc-timeout header. grpc-status uses the canonical code numbering, so codes carry over 1:1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace weft::grpcwire {

// What a response said about how the call ended, as received.
struct ResponseOutcome {
  int http_status = 0;             // 0: no :status seen
  std::string content_type;        // "" when absent
  std::optional<int> grpc_status;  // from the trailers, or a trailers-only response
  std::string grpc_message;        // percent-encoded, as sent
  bool truncated_message = false;  // the stream ended inside a message
};

// The call's status once the server ended the stream. A non-200 :status maps as gRPC's
// "HTTP to gRPC status code mapping" says; a 200 without grpc-status is Internal.
absl::Status StatusFromResponse(const ResponseOutcome& outcome);

// The status for a stream the server reset (RST_STREAM) before sending trailers.
absl::Status StatusFromReset(uint32_t http2_error_code);

// grpc-message is percent-encoded (%XX for bytes outside printable ASCII and '%'); an invalid
// escape is kept literally rather than dropped.
std::string PercentDecode(std::string_view encoded);

// The grpc-timeout value for `timeout` ("5000m"): at most 8 digits, rounded up so the server
// never gives up before the client does; non-positive becomes "1n" (already due).
std::string GrpcTimeoutValue(absl::Duration timeout);

}  // namespace weft::grpcwire
