// The admin request parser: accepted forms, every rejection path, size bounds, and a seeded
// garbage run that must never crash or accept nonsense.
#include "common/admin/http_request_parser.h"

#include <random>

#include "gtest/gtest.h"

namespace weft::admin {
namespace {

using Outcome = HttpParseResult::Outcome;

TEST(HttpRequestParserTest, ParsesAGetWithQueryAndHeaders) {
  const std::string raw =
      "GET /debug/config?format=json HTTP/1.1\r\nHost: x\r\nUser-Agent:  curl/8 \r\n\r\nNEXT";
  HttpParseResult r = ParseHttpRequest(raw);
  ASSERT_EQ(r.outcome, Outcome::kComplete) << r.error;
  EXPECT_EQ(r.consumed, raw.size() - 4);
  EXPECT_EQ(r.request.method, "GET");
  EXPECT_EQ(r.request.path, "/debug/config");
  EXPECT_EQ(r.request.query, "format=json");
  EXPECT_EQ(r.request.Header("user-agent").value_or(""), "curl/8");
  EXPECT_TRUE(r.request.keep_alive);
  EXPECT_FALSE(r.request.has_body);
}

TEST(HttpRequestParserTest, ConnectionSemanticsFollowTheVersion) {
  EXPECT_FALSE(ParseHttpRequest("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n")
                   .request.keep_alive);
  EXPECT_FALSE(ParseHttpRequest("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
  EXPECT_TRUE(
      ParseHttpRequest("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").request.keep_alive);
  EXPECT_TRUE(ParseHttpRequest("GET / HTTP/1.1\nHost: x\n\n").request.keep_alive);  // bare LF
}

TEST(HttpRequestParserTest, IncompleteUntilTheHeadEnds) {
  EXPECT_EQ(ParseHttpRequest("").outcome, Outcome::kIncomplete);
  EXPECT_EQ(ParseHttpRequest("GET /metrics HTTP/1.1\r\nHost: x\r\n").outcome, Outcome::kIncomplete);
}

TEST(HttpRequestParserTest, RejectsMalformedHeads) {
  struct Case {
    const char* raw;
    int status;
  } cases[] = {
      {"garbage\r\n\r\n", 400},
      {"GET\r\n\r\n", 400},
      {"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400},
      {"GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n\r\n", 400},  // no Host
      {"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHo st: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
      {"G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n", 400},
  };
  for (const Case& c : cases) {
    HttpParseResult r = ParseHttpRequest(c.raw);
    EXPECT_EQ(r.outcome, Outcome::kError) << c.raw;
    EXPECT_EQ(r.error_status, c.status) << c.raw << " -> " << r.error;
  }
}

TEST(HttpRequestParserTest, BinaryGarbageIsRejectedWithoutWaitingForMore) {
  HttpParseResult r = ParseHttpRequest(std::string("\x16\x03\x01\x02\x00\x01\x00", 7));  // TLS
  EXPECT_EQ(r.outcome, Outcome::kError);
  EXPECT_EQ(r.error_status, 400);
}

TEST(HttpRequestParserTest, BoundsHeadSizeAndHeaderCount) {
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(10000, 'a');
  HttpParseResult r = ParseHttpRequest(big, {.max_head_bytes = 8192});
  EXPECT_EQ(r.outcome, Outcome::kError);
  EXPECT_EQ(r.error_status, 431);

  std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 70; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  r = ParseHttpRequest(many, {.max_head_bytes = 8192, .max_headers = 64});
  EXPECT_EQ(r.error_status, 431);
}

TEST(HttpRequestParserTest, MarksRequestsWithBodies) {
  EXPECT_TRUE(ParseHttpRequest("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
                  .request.has_body);
  EXPECT_TRUE(ParseHttpRequest("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                  .request.has_body);
  EXPECT_FALSE(
      ParseHttpRequest("GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").request.has_body);
}

TEST(HttpRequestParserTest, SeededGarbageNeverCrashesNorParsesAsValid) {
  std::mt19937 rng(12345);
  const std::string valid = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
  int completes = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string input = valid;
    // Mutate a few bytes of a valid request, or produce pure noise.
    if (i % 2 == 0) {
      for (int k = 0; k < 3; ++k) input[rng() % input.size()] = static_cast<char>(rng() & 0xff);
    } else {
      input.resize(rng() % 64);
      for (char& c : input) c = static_cast<char>(rng() & 0xff);
    }
    HttpParseResult r = ParseHttpRequest(input, {.max_head_bytes = 128});
    if (r.outcome == Outcome::kComplete) {
      ++completes;
      EXPECT_LE(r.consumed, input.size());
      EXPECT_FALSE(r.request.path.empty());
      EXPECT_EQ(r.request.path.front(), '/');
    } else if (r.outcome == Outcome::kError) {
      EXPECT_TRUE(r.error_status == 400 || r.error_status == 431 || r.error_status == 505);
    }
  }
  EXPECT_LT(completes, 20000);
}

}  // namespace
}  // namespace weft::admin
