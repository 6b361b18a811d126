#include "common/admin/http_request_parser.h"

#include <algorithm>
#include <cctype>

namespace weft::admin {
namespace {

using Outcome = HttpParseResult::Outcome;

HttpParseResult Error(int status, std::string why) {
  HttpParseResult r;
  r.outcome = Outcome::kError;
  r.error_status = status;
  r.error = std::move(why);
  return r;
}

// RFC 9110 tchar.
bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// Visible ASCII only: no spaces or controls inside a request target.
bool IsTargetChar(char c) { return c > 0x20 && c < 0x7f; }

bool IsFieldValueChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ContainsToken(std::string_view list, std::string_view token) {
  // Comma-separated, case-insensitive ("keep-alive, Upgrade").
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = TrimOws(list.substr(0, comma));
    if (Lower(item) == token) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Splits off one line ending in CRLF (or a bare LF, which RFC 9112 lets a server accept).
std::optional<std::string_view> NextLine(std::string_view& rest) {
  size_t lf = rest.find('\n');
  if (lf == std::string_view::npos) return std::nullopt;
  std::string_view line = rest.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  rest.remove_prefix(lf + 1);
  return line;
}

}  // namespace

std::optional<std::string_view> HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

HttpParseResult ParseHttpRequest(std::string_view input, const HttpParserLimits& limits) {
  // Leading empty lines before a request line are tolerated (RFC 9112 section 2.2).
  size_t skipped = 0;
  while (skipped < input.size() && (input[skipped] == '\r' || input[skipped] == '\n')) ++skipped;
  if (skipped > 8) return Error(400, "too many empty lines before the request line");
  std::string_view rest = input.substr(skipped);
  const std::string_view window = rest.substr(0, limits.max_head_bytes);
  // No control characters anywhere in a head (HTAB only inside values): binary garbage is
  // rejected on its first bytes instead of after max_head_bytes.
  for (char c : window) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\r' && c != '\n' && c != '\t') || u == 0x7f) {
      return Error(400, "control character in request head");
    }
  }

  // The head must be complete within the limit; find its end before interpreting anything.
  size_t end = window.find("\r\n\r\n");
  size_t end_len = 4;
  size_t lf_end = window.find("\n\n");
  if (lf_end != std::string_view::npos && (end == std::string_view::npos || lf_end < end)) {
    end = lf_end;
    end_len = 2;
  }
  if (end == std::string_view::npos) {
    if (rest.size() >= limits.max_head_bytes) {
      return Error(431,
                   "request head larger than " + std::to_string(limits.max_head_bytes) + " bytes");
    }
    // Reject obvious garbage early instead of waiting for a terminator that never comes.
    if (size_t sp = rest.find(' '); sp != std::string_view::npos && !IsToken(rest.substr(0, sp))) {
      return Error(400, "malformed request line");
    }
    HttpParseResult incomplete;
    return incomplete;
  }
  std::string_view head = rest.substr(0, end + end_len);
  const size_t consumed = skipped + head.size();

  HttpParseResult result;
  HttpRequest& req = result.request;
  std::optional<std::string_view> line = NextLine(head);
  if (!line) return Error(400, "missing request line");

  // request-line = method SP request-target SP HTTP-version
  const size_t sp1 = line->find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line->find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line->find(' ', sp2 + 1) != std::string_view::npos) {
    return Error(400, "malformed request line");
  }
  std::string_view method = line->substr(0, sp1);
  std::string_view target = line->substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line->substr(sp2 + 1);
  if (!IsToken(method)) return Error(400, "malformed method");
  if (target.empty() || target.front() != '/' ||
      !std::all_of(target.begin(), target.end(), IsTargetChar)) {
    return Error(400, "request target must be an absolute path");
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      !std::isdigit(static_cast<unsigned char>(version[5])) ||
      !std::isdigit(static_cast<unsigned char>(version[7]))) {
    return Error(400, "malformed HTTP version");
  }
  if (version[5] != '1') return Error(505, "only HTTP/1.x is supported");
  req.method = std::string(method);
  req.target = std::string(target);
  const size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  req.minor_version = version[7] - '0';

  while (std::optional<std::string_view> field = NextLine(head)) {
    if (field->empty()) break;  // end of head
    if (field->front() == ' ' || field->front() == '\t') {
      return Error(400, "obsolete header line folding is not accepted");
    }
    const size_t colon = field->find(':');
    if (colon == std::string_view::npos) return Error(400, "header line without ':'");
    std::string_view name = field->substr(0, colon);
    std::string_view value = TrimOws(field->substr(colon + 1));
    if (!IsToken(name)) return Error(400, "malformed header name");
    if (!std::all_of(value.begin(), value.end(), IsFieldValueChar)) {
      return Error(400, "control character in header value");
    }
    if (req.headers.size() >= limits.max_headers) {
      return Error(431, "more than " + std::to_string(limits.max_headers) + " headers");
    }
    req.headers.emplace_back(Lower(name), std::string(value));
  }

  if (req.minor_version >= 1 && !req.Header("host")) {
    return Error(400, "HTTP/1.1 request without Host header");
  }
  if (std::optional<std::string_view> cl = req.Header("content-length")) {
    if (cl->empty() || cl->size() > 18 ||
        !std::all_of(cl->begin(), cl->end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Error(400, "malformed Content-Length");
    }
    req.has_body = std::stoll(std::string(*cl)) > 0;
  }
  if (req.Header("transfer-encoding")) req.has_body = true;
  const std::optional<std::string_view> connection = req.Header("connection");
  if (req.minor_version == 0) {
    req.keep_alive = connection && ContainsToken(*connection, "keep-alive");
  } else {
    req.keep_alive = !(connection && ContainsToken(*connection, "close"));
  }
  result.outcome = Outcome::kComplete;
  result.consumed = consumed;
  return result;
}

}  // namespace weft::admin
