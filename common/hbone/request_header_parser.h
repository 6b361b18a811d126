// Turns the header fields of one incoming HEADERS block into a ConnectRequest, or into the
// reason it is not an acceptable HBONE CONNECT. nghttp2's own HTTP messaging checks are off
// (they would reset a CONNECT without :authority instead of answering 400), so the field-level
// rules nghttp2 would apply are applied here, with nghttp2's own validators.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>

#include "common/hbone/session_options.h"

namespace weft::hbone {

// True when `name` is a legal lowercase HTTP/2 field name (':'-prefixed allowed) and `value`
// has no forbidden bytes, per nghttp2_check_header_name / nghttp2_check_header_value_rfc9113.
bool IsValidHeaderField(std::string_view name, std::string_view value);

// True for fields RFC 9113 §8.2.2 forbids in HTTP/2 (connection-specific headers).
bool IsConnectionSpecificHeader(std::string_view name, std::string_view value);

class RequestHeaderParser {
 public:
  enum class Verdict {
    kConnect,    // a valid CONNECT: request() is filled in
    kMalformed,  // breaks HTTP/2 field rules: reset the stream with PROTOCOL_ERROR
    kReject,     // well-formed but not a tunnel request: answer reject_status()
  };

  void AddField(std::string_view name, std::string_view value);
  Verdict Finish();

  const ConnectRequest& request() const { return request_; }
  ConnectRequest TakeRequest() { return std::move(request_); }
  int reject_status() const { return reject_status_; }

 private:
  ConnectRequest request_;
  std::string method_;
  bool saw_method_ = false;
  bool saw_authority_ = false;
  bool saw_scheme_or_path_ = false;
  bool saw_regular_field_ = false;
  bool malformed_ = false;
  size_t total_bytes_ = 0;
  int reject_status_ = 0;
};

}  // namespace weft::hbone
