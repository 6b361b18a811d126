// How a response's headers and trailers become the caller's absl::Status.
#include "common/grpcwire/call_status.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <optional>
#include <string>

namespace weft::grpcwire {
namespace {

// A response as received; designated initializers would trip -Wmissing-field-initializers.
ResponseOutcome Outcome(int http_status, std::string content_type = "application/grpc",
                        std::optional<int> grpc_status = std::nullopt,
                        std::string grpc_message = "", bool truncated = false) {
  ResponseOutcome outcome;
  outcome.http_status = http_status;
  outcome.content_type = std::move(content_type);
  outcome.grpc_status = grpc_status;
  outcome.grpc_message = std::move(grpc_message);
  outcome.truncated_message = truncated;
  return outcome;
}

TEST(CallStatusTest, GrpcStatusCodesCarryOverOneToOne) {
  for (int code = 1; code <= 16; ++code) {
    absl::Status status = StatusFromResponse(Outcome(200, "application/grpc", code, "why"));
    EXPECT_EQ(static_cast<int>(status.code()), code);
    EXPECT_EQ(status.message(), "why");
  }
  EXPECT_TRUE(StatusFromResponse(Outcome(200, "", 0)).ok());
  EXPECT_EQ(StatusFromResponse(Outcome(200, "", 99)).code(), absl::StatusCode::kUnknown);
}

TEST(CallStatusTest, MissingStatusWrongTypeAndTruncationAreInternal) {
  EXPECT_EQ(StatusFromResponse(Outcome(200)).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(StatusFromResponse(Outcome(200, "text/html", 0)).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(StatusFromResponse(Outcome(200, "application/grpc", 0, "", true)).code(),
            absl::StatusCode::kInternal);
  EXPECT_TRUE(StatusFromResponse(Outcome(200, "application/grpc+proto", 0)).ok());
}

TEST(CallStatusTest, HttpStatusMapsAsGrpcSpecifies) {
  EXPECT_EQ(StatusFromResponse(Outcome(404)).code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(StatusFromResponse(Outcome(503)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromResponse(Outcome(403)).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusFromResponse(Outcome(500, "application/grpc", 0)).code(),
            absl::StatusCode::kUnknown);
}

TEST(CallStatusTest, ResetCodes) {
  EXPECT_EQ(StatusFromReset(NGHTTP2_REFUSED_STREAM).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromReset(NGHTTP2_CANCEL).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(StatusFromReset(NGHTTP2_PROTOCOL_ERROR).code(), absl::StatusCode::kInternal);
}

TEST(CallStatusTest, PercentDecoding) {
  EXPECT_EQ(PercentDecode("no pod on node-a: 100%25 sure %E2%9C%93"),
            "no pod on node-a: 100% sure \u2713");
  EXPECT_EQ(PercentDecode("bad %zz and trailing %4"), "bad %zz and trailing %4");
}

TEST(CallStatusTest, GrpcTimeoutFitsEightDigitsAndRoundsUp) {
  EXPECT_EQ(GrpcTimeoutValue(absl::Seconds(5)), "5000m");
  EXPECT_EQ(GrpcTimeoutValue(absl::Microseconds(1500)), "2m");
  EXPECT_EQ(GrpcTimeoutValue(absl::Hours(48)), "172800S");
  EXPECT_EQ(GrpcTimeoutValue(absl::Hours(1000000)), "1000000H");
  EXPECT_EQ(GrpcTimeoutValue(-absl::Seconds(1)), "1n");
}

}  // namespace
}  // namespace weft::grpcwire
