// Text forms of the addresses the capture maps hold: CIDRs from config in,
// "ip:port" for debug dumps out.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace weft::bpf::capture {

struct Cidr {
  int family = 0;         // 4 or 6
  uint8_t addr[16] = {};  // network order; IPv4 in the first 4 bytes
  uint32_t prefixlen = 0;
};

// "10.0.0.0/8", "fd00::/16", or a bare address (host route). InvalidArgument
// names the text and what was expected. Host bits beyond the prefix are cleared.
absl::StatusOr<Cidr> ParseCidr(const std::string& text);

// `addr` is four network-order words, IPv4 v4-mapped; `port_be` network order.
// "10.0.0.1:80" for v4-mapped, "[fd00::1]:80" otherwise.
std::string FormatEndpoint(const uint32_t addr[4], uint16_t port_be);

}  // namespace weft::bpf::capture
