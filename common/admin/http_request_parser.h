// A deliberately small HTTP/1.x request-head parser for the admin endpoint: request line and
// headers only, bounded in size, strict about syntax. Bodies are not read (the admin server
// answers requests that carry one and then closes the connection).
//
// Why not a library: the admin server needs GET on a handful of paths; llhttp/http-parser are
// not part of weft's dependency set and nghttp2 covers only HTTP/2. The parser is kept strict
// (RFC 9112 request-line and field syntax) so anything odd is a 400, never a guess.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft::admin {

struct HttpRequest {
  std::string method;
  std::string target;  // as sent: path plus optional "?query"
  std::string path;
  std::string query;
  int minor_version = 1;                                     // HTTP/1.<minor>
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  bool keep_alive = true;  // from the version and the Connection header
  bool has_body = false;   // Content-Length > 0 or Transfer-Encoding present

  std::optional<std::string_view> Header(std::string_view lower_name) const;
};

struct HttpParseResult {
  enum class Outcome { kIncomplete, kComplete, kError };
  Outcome outcome = Outcome::kIncomplete;
  HttpRequest request;   // kComplete
  size_t consumed = 0;   // kComplete: bytes of the request head
  int error_status = 0;  // kError: 400, 431 or 505
  std::string error;     // kError: why, for the response body and the log
};

struct HttpParserLimits {
  size_t max_head_bytes = 8192;
  size_t max_headers = 64;
};

// Parses the request head at the start of `input`.
HttpParseResult ParseHttpRequest(std::string_view input, const HttpParserLimits& limits = {});

}  // namespace weft::admin
