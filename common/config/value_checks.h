// Predicates for the value formats the config model uses. Each returns an empty
// string when the value is fine, otherwise what was expected, phrased for an error
// message ("expected an IPv4 or IPv6 address, got ...").
#pragma once

#include <string>
#include <string_view>

namespace weft::config {

std::string CheckIpAddress(std::string_view value);
// "10.0.0.0/8", "fd00::/64"; host bits must be zero.
std::string CheckCidr(std::string_view value);
// An address or a CIDR.
std::string CheckIpOrCidr(std::string_view value);
std::string CheckPort(uint32_t port);  // 1-65535
// RFC 1123 label: lowercase alphanumerics and '-', 1-63 chars (namespaces, service accounts).
std::string CheckDnsLabel(std::string_view value);
// RFC 1123 subdomain: dot-separated labels, at most 253 chars (workload names, hostnames).
std::string CheckDnsSubdomain(std::string_view value);
// Kubernetes label key ("[prefix/]name") and value.
std::string CheckLabelKey(std::string_view key);
std::string CheckLabelValue(std::string_view value);
// "spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>", or "*" for any peer.
std::string CheckPrincipal(std::string_view value);
// HTTP header field name (RFC 9110 token, lowercase or not).
std::string CheckHeaderName(std::string_view value);
// HTTP method token, upper case ("GET", "POST", ...).
std::string CheckHttpMethod(std::string_view value);
// RE2 syntax; the message carries RE2's own error.
std::string CheckRegex(std::string_view value);

}  // namespace weft::config
