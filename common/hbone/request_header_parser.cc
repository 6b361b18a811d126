#include "common/hbone/request_header_parser.h"

#include <nghttp2/nghttp2.h>

#include <string>

namespace weft::hbone {
namespace {

// Bounds what one request may make us store (extra_headers are kept for the owner); a peer
// sending more is treated as malformed rather than growing memory without limit.
constexpr size_t kMaxHeaderBytes = 64 * 1024;

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

bool IsValidHeaderField(std::string_view name, std::string_view value) {
  return nghttp2_check_header_name(Bytes(name), name.size()) != 0 &&
         nghttp2_check_header_value_rfc9113(Bytes(value), value.size()) != 0;
}

bool IsConnectionSpecificHeader(std::string_view name, std::string_view value) {
  if (name == "te") return value != "trailers";
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade";
}

void RequestHeaderParser::AddField(std::string_view name, std::string_view value) {
  if (malformed_) return;
  total_bytes_ += name.size() + value.size() + 32;  // 32: the RFC 7541 per-field overhead
  if (total_bytes_ > kMaxHeaderBytes || !IsValidHeaderField(name, value)) {
    malformed_ = true;
    return;
  }
  if (name.starts_with(':')) {
    // Pseudo-header fields must precede regular ones and appear at most once (§8.3).
    if (saw_regular_field_) {
      malformed_ = true;
    } else if (name == ":method") {
      malformed_ = saw_method_ || nghttp2_check_method(Bytes(value), value.size()) == 0;
      saw_method_ = true;
      method_ = std::string(value);
    } else if (name == ":authority") {
      malformed_ = saw_authority_;
      saw_authority_ = true;
      request_.authority = std::string(value);
    } else if (name == ":scheme" || name == ":path" || name == ":protocol") {
      saw_scheme_or_path_ = true;
    } else {
      malformed_ = true;  // unknown or response-only pseudo-header
    }
    return;
  }
  saw_regular_field_ = true;
  if (IsConnectionSpecificHeader(name, value)) {
    malformed_ = true;
  } else if (name == "forwarded") {
    // Several Forwarded fields are one list (RFC 7239 §4).
    if (!request_.forwarded.empty()) request_.forwarded += ", ";
    request_.forwarded += value;
  } else if (name == "traceparent") {
    if (request_.traceparent.empty()) request_.traceparent = std::string(value);
  } else {
    request_.extra_headers.emplace_back(std::string(name), std::string(value));
  }
}

RequestHeaderParser::Verdict RequestHeaderParser::Finish() {
  if (malformed_ || !saw_method_) return Verdict::kMalformed;
  if (method_ != "CONNECT") {
    reject_status_ = 405;
    return Verdict::kReject;
  }
  // RFC 9113 §8.5: a plain CONNECT carries :authority and neither :scheme nor :path; extended
  // CONNECT (RFC 8441) is not something HBONE speaks.
  if (saw_scheme_or_path_ || request_.authority.empty() ||
      nghttp2_check_authority(Bytes(request_.authority), request_.authority.size()) == 0) {
    reject_status_ = 400;
    return Verdict::kReject;
  }
  return Verdict::kConnect;
}

}  // namespace weft::hbone
