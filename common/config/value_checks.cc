#include "common/config/value_checks.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace weft::config {
namespace {

std::string Got(std::string_view value) { return ", got \"" + std::string(value) + "\""; }

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string_view::npos ? s.npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

bool IsIp(std::string_view value, int* family, unsigned char* bytes) {
  std::string s(value);
  if (inet_pton(AF_INET, s.c_str(), bytes) == 1) {
    *family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), bytes) == 1) {
    *family = AF_INET6;
    return true;
  }
  return false;
}

bool IsLabelChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

}  // namespace

std::string CheckIpAddress(std::string_view value) {
  int family;
  unsigned char bytes[16];
  if (IsIp(value, &family, bytes)) return "";
  return "expected an IPv4 or IPv6 address" + Got(value);
}

std::string CheckCidr(std::string_view value) {
  size_t slash = value.find('/');
  int family;
  unsigned char bytes[16];
  if (slash == std::string_view::npos || !IsIp(value.substr(0, slash), &family, bytes)) {
    return "expected a CIDR such as \"10.0.0.0/8\" or \"fd00::/64\"" + Got(value);
  }
  std::string_view len_text = value.substr(slash + 1);
  int len = -1;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  int max = family == AF_INET ? 32 : 128;
  if (ec != std::errc() || end != len_text.data() + len_text.size() || len < 0 || len > max) {
    return absl::StrCat("expected a prefix length from 0 to ", max, Got(value));
  }
  for (int bit = len; bit < max; ++bit) {
    if (bytes[bit / 8] & (0x80 >> (bit % 8))) {
      return absl::StrCat("expected no address bits set past the /", len, " prefix", Got(value));
    }
  }
  return "";
}

std::string CheckIpOrCidr(std::string_view value) {
  if (value.find('/') != std::string_view::npos) return CheckCidr(value);
  int family;
  unsigned char bytes[16];
  if (IsIp(value, &family, bytes)) return "";
  return "expected an IP address or a CIDR" + Got(value);
}

std::string CheckPort(uint32_t port) {
  if (port >= 1 && port <= 65535) return "";
  return absl::StrCat("expected a port from 1 to 65535, got ", port);
}

std::string CheckDnsLabel(std::string_view value) {
  if (value.empty()) return "expected a name (lowercase letters, digits and '-'), got nothing";
  if (value.size() > 63) return "expected at most 63 characters" + Got(value);
  for (char c : value) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return "expected lowercase letters, digits and '-' only" + Got(value);
    }
  }
  if (value.front() == '-' || value.back() == '-') {
    return "expected a name that starts and ends with a letter or digit" + Got(value);
  }
  return "";
}

std::string CheckDnsSubdomain(std::string_view value) {
  if (value.empty()) return "expected a name, got nothing";
  if (value.size() > 253) return "expected at most 253 characters" + Got(value);
  for (std::string_view label : Split(value, '.')) {
    if (!CheckDnsLabel(label).empty()) {
      return "expected dot-separated lowercase names (letters, digits, '-')" + Got(value);
    }
  }
  return "";
}

std::string CheckLabelValue(std::string_view value) {
  if (value.empty()) return "";
  if (value.size() > 63) return "expected a label value of at most 63 characters" + Got(value);
  for (char c : value) {
    if (!(IsLabelChar(c) || c == '-' || c == '_' || c == '.')) {
      return "expected a label value of letters, digits, '-', '_' and '.'" + Got(value);
    }
  }
  if (!IsLabelChar(value.front()) || !IsLabelChar(value.back())) {
    return "expected a label value that starts and ends with a letter or digit" + Got(value);
  }
  return "";
}

std::string CheckLabelKey(std::string_view key) {
  std::string_view name = key;
  size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    if (!CheckDnsSubdomain(key.substr(0, slash)).empty()) {
      return "expected a label key prefix that is a DNS subdomain" + Got(key);
    }
    name = key.substr(slash + 1);
  }
  if (name.empty()) return "expected a label key with a name" + Got(key);
  std::string problem = CheckLabelValue(name);
  if (!problem.empty()) {
    return "expected a label key name of at most 63 letters, digits, '-', '_' and '.'" + Got(key);
  }
  return "";
}

std::string CheckPrincipal(std::string_view value) {
  if (value == "*") return "";
  constexpr std::string_view kScheme = "spiffe://";
  const std::string expected =
      "expected a SPIFFE ID \"spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>\" "
      "or \"*\"" +
      Got(value);
  if (value.substr(0, kScheme.size()) != kScheme) return expected;
  std::vector<std::string_view> parts = Split(value.substr(kScheme.size()), '/');
  if (parts.size() != 5 || parts[1] != "ns" || parts[3] != "sa") return expected;
  if (!CheckDnsSubdomain(parts[0]).empty()) return expected;
  if (parts[2] != "*" && !CheckDnsLabel(parts[2]).empty()) return expected;
  if (parts[4] != "*" && !CheckDnsSubdomain(parts[4]).empty()) return expected;
  return "";
}

std::string CheckHeaderName(std::string_view value) {
  static constexpr std::string_view kTokenExtras = "!#$%&'*+-.^_`|~";
  if (value.empty()) return "expected a header name, got nothing";
  for (char c : value) {
    if (!IsLabelChar(c) && kTokenExtras.find(c) == std::string_view::npos) {
      return "expected a header name (RFC 9110 token characters)" + Got(value);
    }
  }
  return "";
}

std::string CheckHttpMethod(std::string_view value) {
  if (value.empty()) return "expected an HTTP method, got nothing";
  for (char c : value) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c))) {
      return "expected an upper-case HTTP method such as \"GET\"" + Got(value);
    }
  }
  return "";
}

std::string CheckRegex(std::string_view value) {
  RE2 re(re2::StringPiece(value.data(), value.size()), RE2::Quiet);
  if (re.ok()) return "";
  return absl::StrCat("expected an RE2 regular expression (", re.error(), ")", Got(value));
}

}  // namespace weft::config
